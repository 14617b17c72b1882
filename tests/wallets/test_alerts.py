"""Wallet alerts (issue 14 item 5): ``wallet.low_balance`` once per crossing below the
threshold, re-armed when available is back at or above it; ``wallet.depleted`` once per
reaching zero; the optional email after commit. Concurrent drawdowns on PostgreSQL (8
threads) raise exactly one event per crossing."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from events.models import Event, EventType
from ledger import services as ledger
from ledger.errors import InsufficientFunds, InvalidInput, StateConflict
from tests.wallets.conftest import assert_wallet_consistent, fresh
from wallets import services as wallets
from wallets.services import alerts

LOW, DEPLETED = EventType.WALLET_LOW_BALANCE, EventType.WALLET_DEPLETED


def count(wallet, type_) -> int:
    return Event.objects.filter(type=type_, payload__wallet__id=wallet.pk).count()


def draw(wallet, amount, ref, actor):
    return wallets.usage_drawdown(wallet=wallet.pk, amount=amount, reference=ref, actor=actor)


@pytest.mark.django_db
def test_low_balance_once_per_crossing_rearmed_by_a_top_up(make_wallet, account, actor):
    wallet = make_wallet(account, grant="1000.00")
    alerts.set_low_balance_alert(wallet=wallet, threshold="500.00", actor=actor)
    assert count(wallet, LOW) == 0  # 1000 is not below 500
    draw(wallet, "400.00", "u1", actor)  # 600
    assert count(wallet, LOW) == 0
    draw(wallet, "200.00", "u2", actor)  # 400: crossing
    assert count(wallet, LOW) == 1
    event = Event.objects.get(type=LOW)
    assert event.payload["wallet"]["available"]["amount"] == "400.00"
    draw(wallet, "100.00", "u3", actor)  # 300: still below, no new event
    assert count(wallet, LOW) == 1
    assert fresh(wallet).low_balance_alert_seq == fresh(wallet).last_seq - 1
    wallets.top_up(wallet=wallet, amount="200.00", actor=actor, grant=True)  # 500: re-armed
    assert fresh(wallet).low_balance_alert_seq is None
    draw(wallet, "0.01", "u4", actor)  # 499.99: a second crossing
    assert count(wallet, LOW) == 2
    assert_wallet_consistent(wallet)


@pytest.mark.django_db
def test_every_movement_can_cross(make_wallet, account, actor, issued, ongoing):
    wallet = make_wallet(account, grant="100.00")
    alerts.set_low_balance_alert(wallet=wallet, threshold="50.00", actor=actor)
    wallets.transfer_to_credit(wallet=wallet, amount="60.00", actor=actor)  # 40
    assert count(wallet, LOW) == 1
    wallets.top_up(wallet=wallet, amount="60.00", actor=actor, grant=True)  # 100
    invoice = ongoing(account, "70.00")
    wallets.apply_to_invoice(wallet=wallet, invoice=invoice, actor=actor)  # hold 70: 30
    assert count(wallet, LOW) == 2
    wallets.release_holds(invoice=invoice, actor=actor)  # 100: re-armed
    assert fresh(wallet).low_balance_alert_seq is None
    due = issued(account, "200.00")  # the 60.00 of account credit pays part of it
    wallets.apply_to_invoice(wallet=wallet, invoice=due, amount="80.00", actor=actor)  # 20
    assert count(wallet, LOW) == 3
    assert_wallet_consistent(wallet)


@pytest.mark.django_db
def test_depleted_once_at_zero_rearmed_above(make_wallet, account, actor):
    wallet = make_wallet(account, grant="100.00")
    draw(wallet, "100.00", "d1", actor)
    assert count(wallet, DEPLETED) == 1
    with pytest.raises(InsufficientFunds):
        draw(wallet, "1.00", "d2", actor)
    assert count(wallet, DEPLETED) == 1
    wallets.top_up(wallet=wallet, amount="10.00", actor=actor, grant=True)
    assert fresh(wallet).depleted_alert_seq is None
    wallets.transfer_to_credit(wallet=wallet, amount="10.00", actor=actor)
    assert count(wallet, DEPLETED) == 2
    assert count(wallet, LOW) == 0  # no threshold: no low-balance alerts


@pytest.mark.django_db
def test_threshold_set_above_available_alerts_now_and_clearing_rearms(make_wallet, account, actor):
    wallet = make_wallet(account, grant="100.00")
    alerts.set_low_balance_alert(wallet=wallet, threshold="150.00", actor=actor)
    assert count(wallet, LOW) == 1
    alerts.set_low_balance_alert(wallet=wallet, threshold="120.00", actor=actor)
    assert count(wallet, LOW) == 1  # still low, alerted already
    alerts.set_low_balance_alert(wallet=wallet, threshold=None, actor=actor)
    w = fresh(wallet)
    assert w.low_balance_threshold is None and w.low_balance_alert_seq is None


@pytest.mark.django_db
def test_bad_threshold_refused_nothing_changed(make_wallet, account, actor):
    wallet = make_wallet(account, grant="100.00")
    with pytest.raises(InvalidInput, match="threshold: must be zero or more"):
        alerts.set_low_balance_alert(wallet=wallet, threshold="-1.00", actor=actor)
    with pytest.raises(InvalidInput):
        alerts.set_low_balance_alert(wallet=wallet, threshold="1.001", actor=actor)
    assert fresh(wallet).low_balance_threshold is None
    wallets.transfer_to_credit(wallet=wallet, amount="100.00", actor=actor)
    wallets.close_wallet(wallet=wallet, actor=actor)
    with pytest.raises(StateConflict):
        alerts.set_low_balance_alert(wallet=wallet, threshold="1.00", actor=actor)


@pytest.mark.django_db
def test_rolled_back_drawdown_leaves_no_alert(make_wallet, account, actor):
    wallet = make_wallet(account, grant="100.00")
    alerts.set_low_balance_alert(wallet=wallet, threshold="50.00", actor=actor)
    with pytest.raises(RuntimeError), transaction.atomic():
        draw(wallet, "60.00", "r1", actor)
        assert count(wallet, LOW) == 1
        raise RuntimeError("the caller fails after the drawdown")
    assert count(wallet, LOW) == 0 and fresh(wallet).low_balance_alert_seq is None
    draw(wallet, "60.00", "r1", actor)
    assert count(wallet, LOW) == 1


@pytest.mark.django_db
def test_email_optional_and_sent_after_commit(
    make_wallet, account, actor, mailoutbox, django_capture_on_commit_callbacks
):
    wallet = make_wallet(account, grant="100.00")
    alerts.set_low_balance_alert(wallet=wallet, threshold="50.00", actor=actor)
    with django_capture_on_commit_callbacks(execute=True):
        draw(wallet, "60.00", "e1", actor)
    assert count(wallet, LOW) == 1 and mailoutbox == []  # no email asked for
    wallets.top_up(wallet=wallet, amount="60.00", actor=actor, grant=True)
    alerts.set_low_balance_alert(wallet=wallet, threshold="50.00", email=True, actor=actor)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        draw(wallet, "60.00", "e2", actor)
    assert mailoutbox == []  # not inside the transaction
    for callback in callbacks:
        callback()
    [mail] = mailoutbox
    assert mail.to == [account.email] and "Main" in mail.subject and "£40.00" in mail.subject


@pytest.mark.django_db
def test_a_failed_alert_email_is_logged_and_undoes_nothing(
    make_wallet, account, actor, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def refused(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(alerts, "send_mail", refused)
    wallet = make_wallet(account, grant="100.00")
    alerts.set_low_balance_alert(wallet=wallet, threshold="50.00", email=True, actor=actor)
    with (
        caplog.at_level("ERROR", logger=alerts.__name__),
        django_capture_on_commit_callbacks(execute=True),
    ):
        draw(wallet, "60.00", "m1", actor)
    assert count(wallet, LOW) == 1  # the alert and the drawdown stand
    assert "low-balance alert email to" in caplog.text and "mail server down" in caplog.text


def _thread_drawdowns(wallet_id, n, actor, tag):
    errors = []
    barrier = threading.Barrier(n)

    def work(i):
        try:
            barrier.wait(timeout=30)
            wallets.usage_drawdown(
                wallet=wallet_id, amount="100.00", reference=f"{tag}-{i}", actor=actor
            )
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_drawdowns_raise_one_event_per_crossing(make_account):
    actor = ledger.system_actor("alerts")
    account = make_account()
    wallet = wallets.create_wallet(account=account, name="Hot", actor=actor)
    wallets.top_up(wallet=wallet, amount="1000.00", actor=actor, grant=True)
    alerts.set_low_balance_alert(wallet=wallet, threshold="500.00", actor=actor)
    _thread_drawdowns(wallet.pk, 8, actor, "a")  # 1000 -> 200 in 8 x 100
    assert fresh(wallet).available.amount == Decimal("200.00")
    assert count(wallet, LOW) == 1
    wallets.top_up(wallet=wallet, amount="800.00", actor=actor, grant=True)  # 1000
    assert fresh(wallet).low_balance_alert_seq is None
    _thread_drawdowns(wallet.pk, 8, actor, "b")
    assert count(wallet, LOW) == 2
    wallets.top_up(wallet=wallet, amount="600.00", actor=actor, grant=True)  # 800
    _thread_drawdowns(wallet.pk, 8, actor, "c")  # 0: depleted once
    assert count(wallet, DEPLETED) == 1 and count(wallet, LOW) == 3
    seqs = list(Event.objects.filter(account=account).values_list("seq", flat=True))
    assert sorted(seqs) == list(range(1, len(seqs) + 1))
    assert_wallet_consistent(wallet)


@pytest.mark.django_db
def test_a_growing_hold_crosses_and_a_shrinking_one_rearms(make_wallet, account, actor, ongoing):
    from ledger.services import LineSpec

    wallet = make_wallet(account, grant="100.00")
    alerts.set_low_balance_alert(wallet=wallet, threshold="50.00", actor=actor)
    invoice = ongoing(account, "30.00")
    wallets.apply_to_invoice(wallet=wallet, invoice=invoice, actor=actor)  # hold 30: 70
    assert count(wallet, LOW) == 0
    line = wallets.add_ongoing_line(
        invoice=invoice, line=LineSpec("More usage", "1", "40.00"), actor=actor
    )  # the hold follows to 70: available 30 (a hold change)
    assert count(wallet, LOW) == 1 and fresh(wallet).available.amount == Decimal("30.00")
    wallets.remove_ongoing_line(line=line, actor=actor)  # back to 30 held: 70, re-armed
    assert fresh(wallet).low_balance_alert_seq is None
    event = Event.objects.get(type=LOW)
    assert event.payload["wallet"]["held"]["amount"] == "70.00"
    assert_wallet_consistent(wallet)


@pytest.mark.django_db
def test_depleted_payload_is_the_wallet_at_zero(make_wallet, account, actor):
    wallet = make_wallet(account, grant="10.00")
    wallets.transfer_to_credit(wallet=wallet, amount="10.00", actor=actor)
    event = Event.objects.get(type=DEPLETED)
    assert event.payload["wallet"]["available"]["amount"] == "0.00"
    assert event.account_id == account.pk
