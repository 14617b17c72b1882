"""The reminder run as it is scheduled: ``manage.py send_reminders [--today]`` (cron) and
the hourly job ``payments.tasks.send_reminders`` (README "Jobs"); the levels' rules
(placeholders named, one active level per offset) and the invoice's timeline."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from billing_site.jobs.periodic import PERIODIC
from ledger.errors import InvalidInput
from payments.models import Reminder, ReminderLevel
from payments.selectors import invoice_timeline
from payments.services import dunning
from payments.tasks import send_reminders

from .conftest import ACTOR, START, account, issued, make_levels

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_command_runs_as_of_a_day_and_says_what_it_did():
    make_levels()
    issued(account("Acme Ltd"), due=START)
    out = StringIO()
    call_command("send_reminders", "--today", str(START + timedelta(days=31)), stdout=out)
    assert out.getvalue().strip() == (
        "send_reminders: 1 reminder(s) decided, 1 email(s) sent, 0 failed, 2 skipped."
    )
    assert [r.level.offset_days for r in Reminder.objects.filter(status="sent")] == [30]
    assert len(mail.outbox) == 1
    with pytest.raises(CommandError, match="--today: '31/03/2027' is not a date"):
        call_command("send_reminders", "--today", "31/03/2027")


def test_the_hourly_job_is_the_run():
    assert ("send_reminders", "payments.tasks.send_reminders", timedelta(hours=1)) in [
        (j.name, j.task, j.every) for j in PERIODIC
    ]
    make_levels()
    issued(account("Acme Ltd"), due=START)  # due in the future: nothing yet
    result = send_reminders.enqueue()  # the immediate backend of the tests runs it
    assert result.return_value == {"queued": 0, "skipped": 0, "sent": 0, "failed": 0}


def test_level_rules_are_refused_by_the_service_naming_the_field():
    make_levels()
    with pytest.raises(InvalidInput, match=r"unknown placeholder \{amount\}") as bad:
        dunning.save_level(name="X", offset_days=1, subject="{amount}", body="", actor=ACTOR)
    assert bad.value.field == "subject"
    with pytest.raises(InvalidInput, match="Single '}' encountered") as braces:
        dunning.save_level(name="X", offset_days=1, subject="ok", body="pay }", actor=ACTOR)
    assert braces.value.field == "body"
    with pytest.raises(InvalidInput, match="'First reminder' is sent 7 days after") as twin:
        dunning.save_level(name="X", offset_days=7, subject="s", body="b", actor=ACTOR)
    assert twin.value.field == "offset_days"
    first = ReminderLevel.objects.get(offset_days=7)
    dunning.save_level(level=first, is_active=False, actor=ACTOR)  # deactivated: free
    dunning.save_level(name="X", offset_days=7, subject="s", body="b {{literal}}", actor=ACTOR)
    assert ReminderLevel.objects.filter(offset_days=7).count() == 2


def test_the_timeline_tells_each_reminder():
    make_levels()
    inv = issued(account("Acme Ltd"), due=START)
    dunning.send_due_reminders(today=START + timedelta(days=8))
    words = [e.what for e in invoice_timeline(inv)]
    assert "Reminder 'First reminder' sent to acme@example.test by the reminder run" in words
    assert any(w.startswith("Reminder 'Friendly note' skipped: a later level") for w in words)
