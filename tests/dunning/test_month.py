"""Acceptance (issue 15): over a simulated month (a fixed clock: ``today`` given to the
run), each level is sent exactly once per overdue invoice, none to paid, cancelled,
disputed or excluded ones; a run that missed days sends only the most advanced level due
and records the earlier ones as skipped. Every email carries the invoice's payment link."""

from datetime import timedelta

import pytest
from django.core import mail

from events.models import Event, EventType
from payments import services as pay
from payments.models import PaymentLink, Reminder
from payments.services import dunning

from .conftest import ACTOR, START, account, issued, rows

DAYS = 40


def world():
    """The invoices, each on its own account (the email says whose it is)."""
    due = START + timedelta(days=5)
    w = {name: issued(account(f"{name} Ltd"), due=due) for name in ("full", "part", "paidmid")}
    pay.mark_invoice_paid(invoice=w["part"], method="cash", actor=ACTOR, amount="40.00")
    w["cancelled"] = issued(account("cancelled Ltd"), due=due)
    pay.cancel_invoice(invoice=w["cancelled"], actor=ACTOR, reason="sent twice")
    w["disputed"] = issued(account("disputed Ltd"), due=due)
    payment = pay.mark_invoice_paid(invoice=w["disputed"], method="card", actor=ACTOR)
    pay.record_dispute(payment=payment, actor=ACTOR, reason="chargeback")
    excluded = account("excluded Ltd")
    dunning.exclude_account(account=excluded, reason="in a payment plan", actor=ACTOR)
    w["excluded"] = issued(excluded, due=due)
    w["early"] = issued(account("early Ltd"), due=START + timedelta(days=20))
    return w


def run(day, django_capture_on_commit_callbacks) -> dict:
    with django_capture_on_commit_callbacks(execute=True):
        return dunning.send_due_reminders(today=START + timedelta(days=day), batch=3)


@pytest.mark.django_db
def test_a_simulated_month_sends_each_level_once(levels, django_capture_on_commit_callbacks):
    w = world()
    sent: list[tuple[int, str, str]] = []  # (day, to, subject)
    for day in range(DAYS):
        if day == 15:
            pay.mark_invoice_paid(invoice=w["paidmid"], method="bank_transfer", actor=ACTOR)
        if day == 18:
            pay.mark_invoice_paid(invoice=w["early"], method="bank_transfer", actor=ACTOR)
        if day == 20:  # issued late, already past its due date: a catch-up
            w["late"] = issued(account("late Ltd"), due=START)
        before = len(mail.outbox)
        run(day, django_capture_on_commit_callbacks)
        again = run(day, django_capture_on_commit_callbacks)  # hourly: the same day again
        assert again == {"queued": 0, "skipped": 0, "sent": 0, "failed": 0}
        sent += [
            (day, m.to[0].split("@")[0], m.subject.split(":")[0]) for m in mail.outbox[before:]
        ]

    number = {name: inv.number for name, inv in w.items()}
    assert sent == [
        (2, "full", f"Invoice {number['full']} is due on 06 March 2027"),
        (2, "part", f"Invoice {number['part']} is due on 06 March 2027"),
        (2, "paidmid", f"Invoice {number['paidmid']} is due on 06 March 2027"),
        (12, "full", f"Invoice {number['full']}"),
        (12, "part", f"Invoice {number['part']}"),
        (12, "paidmid", f"Invoice {number['paidmid']}"),
        (17, "early", f"Invoice {number['early']} is due on 21 March 2027"),
        (20, "late", f"Invoice {number['late']}"),  # the 7-day level; -3 skipped
        (30, "late", "Final notice"),
        (35, "full", "Final notice"),
        (35, "part", "Final notice"),
    ]
    assert rows() == sorted(
        [(number[n], lv, "sent") for n in ("full", "part") for lv in LEVEL_NAMES]
        + [(number["paidmid"], lv, "sent") for lv in LEVEL_NAMES[:2]]
        + [(number["early"], "Friendly note", "sent")]
        + [(number["late"], "Friendly note", "skipped")]
        + [(number["late"], lv, "sent") for lv in LEVEL_NAMES[1:]]
    )
    for name in ("cancelled", "disputed", "excluded"):
        assert not Reminder.objects.filter(invoice=w[name]).exists(), name
    events = Event.objects.filter(type=EventType.INVOICE_REMINDER_SENT)
    assert events.count() == Reminder.objects.filter(status="sent").count() == 11


LEVEL_NAMES = ("Friendly note", "First reminder", "Final notice")


@pytest.mark.django_db
def test_the_email_has_the_text_and_the_payment_link(levels, django_capture_on_commit_callbacks):
    inv = issued(account("Acme Ltd"), "75.00", due=START)
    counts = run(8, django_capture_on_commit_callbacks)
    assert counts == {"queued": 1, "skipped": 1, "sent": 1, "failed": 0}
    (message,) = mail.outbox
    reminder = Reminder.objects.get(status="sent")
    link = PaymentLink.objects.get(invoice=inv)
    token = reminder.pay_url.split("/pay/", 1)[1].rstrip("/")
    assert reminder.link == link and pay.resolve_link(token) == link  # the link it opens
    assert message.to == ["acme@example.test"]
    assert message.subject == f"Invoice {inv.number}: £75.00 is 8 days late"
    assert message.body == (
        f"Hello Acme Ltd,\n\ninvoice {inv.number} owes £75.00 (due 01 March 2027).\n"
        f"Pay it here: {reminder.pay_url}\n"
    )
    assert reminder.sent_to == "acme@example.test" and reminder.sent_at is not None
    assert reminder.actor_label == "system:reminder run" and reminder.trigger == "run"
    # The next reminder reuses the live link rather than making another one.
    run(31, django_capture_on_commit_callbacks)
    assert PaymentLink.objects.filter(invoice=inv).count() == 1
    assert Reminder.objects.get(level__offset_days=30).link == link


@pytest.mark.django_db
def test_no_levels_no_reminders(django_capture_on_commit_callbacks):
    issued(account("Acme Ltd"), due=START)
    assert run(40, django_capture_on_commit_callbacks)["queued"] == 0
    assert mail.outbox == []
