"""Automatic top-ups (issue 14 item 5): a below-threshold rule opens a ``top_up`` payment
after the crossing commits (a job), a monthly rule once per wallet and month; a fixed
amount or up to a target; collected by direct debit under the account's mandate (the
sandbox bank confirms, the wallet is credited) or left waiting and the member emailed.
At most one automatic top-up per wallet is open at a time."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing_site.jobs.periodic import enqueue_due
from ledger import services as ledger
from ledger.errors import InvalidInput, StateConflict
from payments import services as pay
from payments.gateways.sandbox import CARD_SUCCESS
from payments.models import AutoTopUpRun, GatewayCall, Payment, PaymentLink
from payments.services.auto_top_ups import monthly_auto_top_ups
from payments.services.gateway_flows import resolve_link
from tests.wallets.conftest import assert_wallet_consistent, fresh
from wallets import services as wallets

IBAN = "DE89 3704 0044 0532 0130 00"


def top_ups(wallet):
    return list(Payment.objects.filter(wallet=wallet, type="top_up").order_by("id"))


def draw(wallet, amount, ref, actor):
    return wallets.usage_drawdown(wallet=wallet.pk, amount=amount, reference=ref, actor=actor)


@pytest.fixture
def low_wallet(make_wallet, account, actor):
    wallet = make_wallet(account, grant="1000.00")
    wallets.set_low_balance_alert(wallet=wallet, threshold="500.00", actor=actor)
    return fresh(wallet)


@pytest.mark.django_db
def test_threshold_fixed_without_mandate_waits_and_emails(
    low_wallet, account, actor, mailoutbox, django_capture_on_commit_callbacks
):
    wallets.set_auto_top_up(
        wallet=low_wallet, trigger="below_threshold", amount="300.00", actor=actor
    )
    with django_capture_on_commit_callbacks(execute=True):
        draw(low_wallet, "400.00", "t1", actor)  # 600: not below
    assert top_ups(low_wallet) == [] and mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        draw(low_wallet, "200.00", "t2", actor)  # 400: crossing -> the job runs after commit
    [payment] = top_ups(low_wallet)
    assert (payment.status, payment.amount.amount) == ("waiting_for_payment", Decimal("300.00"))
    assert AutoTopUpRun.objects.get(payment=payment).by_direct_debit is False
    [mail] = mailoutbox
    assert mail.to == [account.email] and payment.number in mail.body and "£300.00" in mail.subject
    [link] = PaymentLink.objects.filter(payment=payment)
    url = mail.body.split("http://localhost:8000/pay/", 1)[1].split("/")[0]  # SITE_URL
    assert link.invoice is None and resolve_link(url) == link  # the token is timestamped
    with django_capture_on_commit_callbacks(execute=True):
        draw(low_wallet, "100.00", "t3", actor)  # still below: no new crossing, no new top-up
    assert len(top_ups(low_wallet)) == 1
    pay.mark_payment_paid(payment=payment, method="bank_transfer", actor=actor)
    assert fresh(low_wallet).available.amount == Decimal("600.00")  # re-armed
    with django_capture_on_commit_callbacks(execute=True):
        draw(low_wallet, "200.00", "t4", actor)  # a new crossing: a second top-up
    assert len(top_ups(low_wallet)) == 2
    assert_wallet_consistent(low_wallet)


@pytest.mark.django_db
def test_one_open_automatic_top_up_per_wallet(
    low_wallet, actor, django_capture_on_commit_callbacks
):
    wallets.set_auto_top_up(
        wallet=low_wallet, trigger="below_threshold", target="800.00", actor=actor
    )
    with django_capture_on_commit_callbacks(execute=True):
        draw(low_wallet, "600.00", "o1", actor)  # 400: top up to 800 -> 400.00
    [first] = top_ups(low_wallet)
    assert first.amount.amount == Decimal("400.00")
    wallets.top_up(wallet=low_wallet, amount="200.00", actor=actor, grant=True)  # 600: re-armed
    with django_capture_on_commit_callbacks(execute=True):
        draw(low_wallet, "200.00", "o2", actor)  # crossing again, the first still waits
    assert top_ups(low_wallet) == [first]
    pay.cancel_payment(payment=first, actor=actor, reason="not wanted")
    wallets.top_up(wallet=low_wallet, amount="200.00", actor=actor, grant=True)
    with django_capture_on_commit_callbacks(execute=True):
        draw(low_wallet, "200.00", "o3", actor)
    assert len(top_ups(low_wallet)) == 2  # the cancelled one no longer counts


@pytest.mark.django_db
def test_monthly_fixed_once_per_month(make_wallet, account, actor, mailoutbox):
    wallet = make_wallet(account, grant="50.00")
    wallets.set_auto_top_up(
        wallet=wallet, trigger="monthly", day_of_month=5, amount="100.00", actor=actor
    )
    assert monthly_auto_top_ups(now=datetime(2026, 12, 4, 12, tzinfo=UTC)) == 0  # before day 5
    assert monthly_auto_top_ups(now=datetime(2026, 12, 5, 12, tzinfo=UTC)) == 1
    assert monthly_auto_top_ups(now=datetime(2026, 12, 20, 12, tzinfo=UTC)) == 0  # done this month
    [payment] = top_ups(wallet)
    assert AutoTopUpRun.objects.get(payment=payment).period == "2026-12"
    pay.mark_payment_paid(payment=payment, method="bank_transfer", actor=actor)
    assert monthly_auto_top_ups(now=datetime(2027, 1, 5, 12, tzinfo=UTC)) == 1
    assert len(top_ups(wallet)) == 2 and fresh(wallet).available.amount == Decimal("150.00")


@pytest.mark.django_db
def test_monthly_target_and_nothing_when_at_target(make_wallet, account, actor):
    wallet = make_wallet(account, grant="50.00")
    wallets.set_auto_top_up(
        wallet=wallet, trigger="monthly", day_of_month=1, target="50.00", actor=actor
    )
    assert monthly_auto_top_ups(now=datetime(2026, 12, 1, 12, tzinfo=UTC)) == 0  # at target
    wallets.set_auto_top_up(
        wallet=wallet, trigger="monthly", day_of_month=1, target="120.00", actor=actor
    )
    assert monthly_auto_top_ups(now=datetime(2027, 1, 2, 12, tzinfo=UTC)) == 1
    assert top_ups(wallet)[0].amount.amount == Decimal("70.00")


@pytest.mark.django_db
def test_the_scheduler_runs_the_monthly_job(
    make_wallet, account, actor, django_capture_on_commit_callbacks
):
    wallet = make_wallet(account, grant="10.00")
    day = timezone.localtime().day
    if day > 28:
        pytest.skip("monthly rules run on days 1 to 28")
    wallets.set_auto_top_up(
        wallet=wallet, trigger="monthly", day_of_month=day, amount="25.00", actor=actor
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert "monthly_auto_top_ups" in enqueue_due()  # immediate backend: after commit
    assert len(top_ups(wallet)) == 1


@pytest.mark.django_db
def test_bad_rules_refused(make_wallet, account, actor):
    wallet = make_wallet(account, grant="10.00")
    with pytest.raises(InvalidInput, match="no low-balance threshold"):
        wallets.set_auto_top_up(wallet=wallet, trigger="below_threshold", amount="5", actor=actor)
    with pytest.raises(InvalidInput, match="either a fixed amount or a target"):
        wallets.set_auto_top_up(
            wallet=wallet, trigger="monthly", day_of_month=3, amount="5", target="9", actor=actor
        )
    with pytest.raises(InvalidInput, match="day from 1 to 28"):
        wallets.set_auto_top_up(
            wallet=wallet, trigger="monthly", day_of_month=31, amount="5", actor=actor
        )
    with pytest.raises(InvalidInput, match="trigger: one of"):
        wallets.set_auto_top_up(wallet=wallet, trigger="weekly", amount="5", actor=actor)
    wallets.set_low_balance_alert(wallet=wallet, threshold="5.00", actor=actor)
    with pytest.raises(InvalidInput, match="target: must be above the threshold"):
        wallets.set_auto_top_up(wallet=wallet, trigger="below_threshold", target="5", actor=actor)
    wallets.set_auto_top_up(wallet=wallet, trigger="below_threshold", amount="5", actor=actor)
    with pytest.raises(StateConflict, match="automatic top-up on its threshold"):
        wallets.set_low_balance_alert(wallet=wallet, threshold=None, actor=actor)
    assert wallets.clear_auto_top_up(wallet=wallet, actor=actor) is True
    wallets.set_low_balance_alert(wallet=wallet, threshold=None, actor=actor)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_threshold_target_with_mandate_collected_by_direct_debit(make_account):
    actor = ledger.system_actor("auto top-up test")
    account = make_account()
    pay.create_mandate(
        account=account, reference="MD-AUTO-1", signed_on=timezone.localdate(), iban=IBAN,
        actor=actor,
    )  # fmt: skip
    wallet = wallets.create_wallet(account=account, name="Metered", actor=actor)
    wallets.top_up(wallet=wallet, amount="1000.00", actor=actor, grant=True)
    wallets.set_low_balance_alert(wallet=wallet, threshold="500.00", actor=actor)
    wallets.set_auto_top_up(wallet=wallet, trigger="below_threshold", target="900.00", actor=actor)
    draw(wallet, "700.00", "m1", actor)  # autocommit: commits, then the job runs
    [payment] = top_ups(wallet)
    assert (payment.status, payment.amount.amount) == ("processing", Decimal("600.00"))
    [call] = GatewayCall.objects.filter(payment=payment)
    assert call.mandate.reference == "MD-AUTO-1"
    call_command("deliver_sandbox_events", "--all")
    assert fresh(payment).status == "completed"
    assert fresh(wallet).available.amount == Decimal("900.00")
    assert fresh(wallet).low_balance_alert_seq is None  # re-armed by the top-up
    assert_wallet_consistent(wallet)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_monthly_fixed_with_mandate_end_to_end(make_account):
    actor = ledger.system_actor("auto top-up test")
    account = make_account()
    pay.create_mandate(
        account=account, reference="MD-AUTO-2", signed_on=timezone.localdate(), iban=IBAN,
        actor=actor,
    )  # fmt: skip
    wallet = wallets.create_wallet(account=account, name="Monthly", actor=actor)
    wallets.set_auto_top_up(
        wallet=wallet, trigger="monthly", day_of_month=1, amount="250.00", actor=actor
    )
    assert monthly_auto_top_ups(now=datetime(2026, 12, 1, 9, tzinfo=UTC)) == 1
    assert monthly_auto_top_ups(now=datetime(2026, 12, 1, 10, tzinfo=UTC)) == 0
    [payment] = top_ups(wallet)
    assert fresh(payment).status == "processing"
    call_command("deliver_sandbox_events", "--all")
    assert fresh(payment).status == "completed"
    assert fresh(wallet).available.amount == Decimal("250.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_threshold_fixed_without_mandate_paid_by_card_through_the_emailed_link(
    make_account, client, mailoutbox
):
    actor = ledger.system_actor("auto top-up test")
    account = make_account()
    wallet = wallets.create_wallet(account=account, name="Card", actor=actor)
    wallets.top_up(wallet=wallet, amount="100.00", actor=actor, grant=True)
    wallets.set_low_balance_alert(wallet=wallet, threshold="50.00", actor=actor)
    wallets.set_auto_top_up(wallet=wallet, trigger="below_threshold", amount="75.00", actor=actor)
    draw(wallet, "60.00", "c1", actor)  # 40: the job opens a waiting top-up and emails
    [payment] = top_ups(wallet)
    assert payment.status == "waiting_for_payment"
    [mail] = mailoutbox
    path = "/" + mail.body.split("http://localhost:8000/", 1)[1].split()[0]
    page = client.get(path)
    assert page.status_code == 200
    assert "Top up wallet Card" in page.content.decode() and "£75.00" in page.content.decode()
    paid = client.post(path, {"card_number": CARD_SUCCESS})
    assert paid.status_code == 302
    assert fresh(payment).status == "processing"
    call_command("deliver_sandbox_events", "--all")
    assert fresh(payment).status == "completed"
    assert PaymentLink.objects.get(payment=payment).paid_at is not None
    assert fresh(wallet).available.amount == Decimal("115.00")
    assert "Paid" in client.get(path).content.decode()
    assert_wallet_consistent(wallet)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_open_one_automatic_top_up(make_account):
    import threading

    from django.db import connection

    from payments.services.auto_top_ups import run_auto_top_up

    actor = ledger.system_actor("auto top-up test")
    account = make_account()
    wallet = wallets.create_wallet(account=account, name="Race", actor=actor)
    wallets.top_up(wallet=wallet, amount="100.00", actor=actor, grant=True)
    wallets.set_low_balance_alert(wallet=wallet, threshold="500.00", actor=actor)  # low now
    wallets.set_auto_top_up(wallet=wallet, trigger="below_threshold", amount="400.00", actor=actor)
    assert len(top_ups(wallet)) == 1  # setting the threshold above available alerted: a job
    pay.cancel_payment(payment=top_ups(wallet)[0], actor=actor, reason="test")
    barrier, errors, opened = threading.Barrier(8), [], []

    def work():
        try:
            barrier.wait(timeout=30)
            opened.append(run_auto_top_up(wallet=wallet.pk, trigger="below_threshold"))
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert len([p for p in opened if p is not None]) == 1
    assert len(top_ups(wallet)) == 2
    assert AutoTopUpRun.objects.filter(wallet=wallet, closed_at__isnull=True).count() == 1
