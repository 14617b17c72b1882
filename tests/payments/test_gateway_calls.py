"""Nothing slow inside a lock (issue 12): outbound gateway calls are recorded, made
after the deciding transaction has committed — holding no row lock — and their outcome
recorded; a failing call leaves a visible record and a payment that is not stuck."""

import json
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import Client

from ledger.models import LedgerEntry
from payments import gateways
from payments import services as pay
from payments.gateways.sandbox import CARD_SUCCESS, SandboxGateway
from payments.models import CallStatus, GatewayCall, GatewayEvent, Payment, SandboxEvent

from .conftest import after_commit, fresh, waiting_payment
from .gateway_stubs import SlowGateway, UnreachableGateway, use_gateway

URL = "/api/v1/gateways/sandbox/webhook/"


@pytest.mark.django_db
def test_the_call_is_recorded_and_made_after_commit(account, issue, actor):
    payment = waiting_payment(issue(account, "75.00"))
    with after_commit():
        pay.start_card_payment(payment=payment, card_number=CARD_SUCCESS, actor=actor)
        # Decided, not sent: the transaction has not committed yet.
        call = GatewayCall.objects.get(payment=payment)
        assert (call.kind, call.status, call.attempts) == ("card_payment", "pending", 0)
        assert fresh(payment).status == "processing" and not fresh(payment).gateway_reference
        assert not SandboxEvent.objects.exists()
    call.refresh_from_db()
    assert (call.status, call.attempts, call.error) == (CallStatus.ACCEPTED, 1, "")
    assert call.request == {"card": "…4242"}  # never the card number
    assert call.started_at and call.finished_at
    assert call.reference == fresh(payment).gateway_reference
    assert SandboxEvent.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["card", "direct_debit"])
def test_a_call_that_fails_is_visible_and_the_payment_waits_again(
    account, issue, actor, settings, method
):
    use_gateway(settings, UnreachableGateway)
    invoice = issue(account, "75.00")
    payment = waiting_payment(invoice)
    with after_commit():
        if method == "card":
            pay.start_card_payment(payment=payment, card_number=CARD_SUCCESS, actor=actor)
        else:
            pay.force_direct_debit(invoice=invoice, iban="DE89370400440532013000", actor=actor)
    payment = fresh(payment)
    assert payment.status == "waiting_for_payment"  # not stuck in processing
    assert payment.decline_reason == "gateway call failed: ConnectionError: gateway unreachable"
    call = GatewayCall.objects.get(payment=payment)
    assert (call.status, call.attempts) == (CallStatus.FAILED, 1)
    assert call.error == "ConnectionError: gateway unreachable"
    last = payment.transitions.order_by("-id").first()
    assert (last.name, last.target) == ("fail_processing", "waiting_for_payment")
    assert not LedgerEntry.objects.filter(kind="PAYM").exists()
    # Once the gateway answers again the payment simply goes to it again.
    use_gateway(settings, SandboxGateway)
    with after_commit():
        if method == "card":
            pay.start_card_payment(payment=payment, card_number=CARD_SUCCESS, actor=actor)
        else:
            pay.force_direct_debit(invoice=invoice, iban="DE89370400440532013000", actor=actor)
    call_command("deliver_sandbox_events", "--all", verbosity=0)
    assert fresh(payment).status == "completed" and fresh(invoice).status == "paid"


@pytest.mark.django_db
def test_a_call_is_sent_once(account, issue, actor):
    from payments.services.gateway_calls import send

    payment = waiting_payment(issue(account, "75.00"))
    with after_commit():
        pay.start_card_payment(payment=payment, card_number=CARD_SUCCESS, actor=actor)
    call = GatewayCall.objects.get(payment=payment)
    assert send(call.pk, card_number=CARD_SUCCESS).attempts == 1  # already sent: nothing
    assert SandboxEvent.objects.count() == 2


@pytest.mark.django_db
def test_the_staff_payment_page_shows_the_calls(account, issue, actor, settings, admin_client):
    use_gateway(settings, UnreachableGateway)
    payment = waiting_payment(issue(account, "75.00"))
    with after_commit():
        pay.start_card_payment(payment=payment, card_number=CARD_SUCCESS, actor=actor)
    page = admin_client.get(f"/admin/payments/payment/{payment.pk}/change/").content.decode()
    assert "gateway calls" in page.lower() and "ConnectionError: gateway unreachable" in page
    listing = admin_client.get("/admin/payments/gatewaycall/").content.decode()
    assert "gateway unreachable" in listing


def backdate(call: GatewayCall, minutes: int = 11) -> None:
    GatewayCall.objects.filter(pk=call.pk).update(
        created_at=call.created_at - timedelta(minutes=minutes)
    )


@pytest.mark.django_db
def test_a_payment_start_never_sent_is_failed_by_the_command(account, issue, actor):
    """The process stopped between the commit and the call: the card number is gone, so
    the payment waits again rather than stay processing for good."""
    payment = waiting_payment(issue(account, "75.00"))
    pay.start_card_payment(payment=payment, card_number=CARD_SUCCESS, actor=actor)  # never sent
    call = GatewayCall.objects.get(payment=payment)
    call_command("retry_gateway_events", verbosity=0)
    assert fresh(call).status == "pending"  # too recent: maybe still on its way
    backdate(call)
    call_command("retry_gateway_events", verbosity=0)
    assert fresh(call).status == CallStatus.FAILED and "never sent" in fresh(call).error
    assert fresh(payment).status == "waiting_for_payment"
    assert "never sent" in fresh(payment).decline_reason


@pytest.mark.django_db
def test_a_refund_never_sent_is_sent_by_the_command(account, issue, actor):
    invoice = issue(account, "75.00")
    payment = waiting_payment(invoice)
    with after_commit():
        pay.start_card_payment(payment=payment, card_number=CARD_SUCCESS, actor=actor)
    call_command("deliver_sandbox_events", "--all", verbosity=0)
    refund = pay.refund_payment(payment=payment, amount="5.00", actor=actor)  # never sent
    call = GatewayCall.objects.get(payment=refund)
    backdate(call)
    call_command("retry_gateway_events", verbosity=0)
    assert fresh(call).status == CallStatus.ACCEPTED and fresh(refund).gateway_reference
    call_command("deliver_sandbox_events", "--all", verbosity=0)
    assert fresh(refund).status == "completed"
    assert fresh(invoice).amount_refunded.amount == 5


# --- PostgreSQL: real locks and real threads ---------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_no_row_lock_is_held_while_the_gateway_is_called(account, issue, actor, settings):
    use_gateway(settings, SlowGateway)
    SlowGateway.entered.clear()
    SlowGateway.release.clear()
    payment = waiting_payment(issue(account, "75.00"))
    probe = {}

    def lock_the_rows_meanwhile():
        # While the call waits on the gateway, another connection locks the account and
        # the payment at once (NOWAIT): the request making the call holds no lock.
        try:
            assert SlowGateway.entered.wait(30)
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM ledger_account WHERE id = %s FOR UPDATE NOWAIT", [account.pk]
                )
                probe["account"] = cursor.fetchone()[0]
                cursor.execute(
                    "SELECT status FROM payments_payment WHERE id = %s FOR UPDATE NOWAIT",
                    [payment.pk],
                )
                probe["payment"] = cursor.fetchone()[0]
        except Exception as exc:  # noqa: BLE001 - reported below
            probe["error"] = exc
        finally:
            SlowGateway.release.set()
            connections.close_all()

    prober = threading.Thread(target=lock_the_rows_meanwhile)
    prober.start()
    try:
        started = pay.start_card_payment(payment=payment, card_number=CARD_SUCCESS, actor=actor)
    finally:
        SlowGateway.release.set()
        prober.join(30)
    assert probe == {"account": account.pk, "payment": "processing"}
    assert started.status == "processing" and started.gateway_reference
    assert GatewayCall.objects.get(payment=payment).status == CallStatus.ACCEPTED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_redelivered_unknown_event_from_four_threads_has_one_effect(account, issue, actor):
    invoice = issue(account, "75.00")
    payment = pay.start_card_payment(
        payment=waiting_payment(invoice), card_number=CARD_SUCCESS, actor=actor
    )
    SandboxEvent.objects.all().delete()  # the test is the gateway
    gw = gateways.by_name("sandbox")
    raw = json.dumps(
        {"id": "evt_race_u", "type": "payment.succeeded", "payment_reference": "later"}
    ).encode()

    def post():
        return Client().post(
            URL, raw, content_type="application/json", HTTP_BILLFOLD_SIGNATURE=gw.sign(raw)
        )

    assert post().status_code == 202  # not known yet: stored
    Payment.objects.filter(pk=payment.pk).update(gateway_reference="later")
    barrier = threading.Barrier(4)
    answers, errors = [], []

    def worker():
        try:
            barrier.wait(30)
            answers.append(post())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and [a.status_code for a in answers] == [200] * 4
    assert sorted(a.json()["status"] for a in answers) == ["duplicate"] * 3 + ["processed"]
    assert LedgerEntry.objects.filter(account=account, kind="PAYM").count() == 1
    assert GatewayEvent.objects.get(event_id="evt_race_u").deliveries == 5
    assert fresh(payment).status == "completed" and fresh(invoice).status == "paid"
    call_command("verify_ledger")
