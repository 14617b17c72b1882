"""The cheap ``emit`` (issue 14's cost target) stores what the slow one stored.

* every registered renderer (one cached serializer, the row read by ``events.snapshot``)
  gives exactly what the API's serializer gives on the ORM's instance, through the API's
  JSON renderer, for every model an event shows;
* the payload is the row as it stands, not the caller's instance: a stale instance (its
  row changed by a drawdown or an UPDATE it did not see) is rendered as the row is —
  equal to the API's GET — and the numbers stay gapless; on PostgreSQL the counter and
  the event are written by ONE statement, and a rollback gives the number back.
"""

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from billing_site.api.dunning import ReminderSerializer
from billing_site.api.invoice_serializers import InvoiceSerializer
from billing_site.api.payment_serializers import PaymentSerializer
from billing_site.api.wallet_serializers import CreditMemoSerializer, WalletSerializer
from events import rendering, snapshot
from events import services as events
from events.models import EventType
from ledger import services as ledger
from ledger.models import Invoice
from payments import services as pay
from payments.models import Payment, Reminder
from payments.services import dunning
from wallets import services as wallets
from wallets.models import CreditMemo, Wallet

from .conftest import ACTOR, events_of, invoice

T = EventType
SERIALIZERS = {
    Invoice: (InvoiceSerializer, Invoice.objects.prefetch_related("lines")),
    Payment: (PaymentSerializer, Payment.objects.all()),
    Wallet: (WalletSerializer, Wallet.objects.all()),
    CreditMemo: (CreditMemoSerializer, CreditMemo.objects.all()),
    Reminder: (ReminderSerializer, Reminder.objects.all()),
}


def as_api(obj) -> dict:
    """What the outbox stored before it was made cheap: the ORM's instance through the
    API's serializer and JSON renderer."""
    serializer, queryset = SERIALIZERS[type(obj)]
    return json.loads(JSONRenderer().render(serializer(queryset.get(pk=obj.pk)).data))


@pytest.fixture
def world(db):
    acct = ledger.create_account(
        name="Cheap Ltd", email="c@example.test", currency="GBP", actor=ACTOR
    )
    wallet = wallets.create_wallet(account=acct, name="Main", actor=ACTOR)
    wallets.top_up(wallet=wallet, amount="500.00", actor=ACTOR, grant=True)
    inv = invoice(acct, "75.00", issue=True)
    (memo,) = pay.apply_wallet(wallet=wallet, invoice=inv, actor=ACTOR)
    payment = pay.record_payment(account=acct, amount="12.34", method="cash", actor=ACTOR)
    dunning.save_level(name="Late", offset_days=7, subject="Late", body="{pay_link}", actor=ACTOR)
    owed = invoice(acct, "20.00", issue=True)
    reminder = dunning.send_reminder_now(invoice=owed, actor=ACTOR)
    return {
        "account": acct,
        "wallet": wallet,
        "invoice": inv,
        "memo": memo,
        "payment": payment,
        "reminder": reminder,
    }


@pytest.mark.django_db
def test_every_renderer_equals_the_api_serializer(world):
    assert rendering.registered() == sorted(m._meta.label for m in SERIALIZERS)
    for key in ("wallet", "invoice", "memo", "payment", "reminder"):
        obj = world[key]
        with transaction.atomic():
            assert rendering.render(obj) == as_api(obj), key
            assert snapshot.of(type(obj)).read(obj.pk).pk == obj.pk


def emitted(acct, type_):
    return [e for e in events_of(acct) if e.type == type_]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_counter_and_the_event_are_one_statement(world):
    acct, payment = world["account"], world["payment"]
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        event = events.emit(T.PAYMENT_COMPLETED, account=acct, objects={"payment": payment})
    statements = [q["sql"] for q in queries.captured_queries]
    writes = [s for s in statements if "events_event" in s]
    assert len(writes) == 1 and "events_eventcounter" in writes[0], statements
    stored = emitted(acct, T.PAYMENT_COMPLETED)[-1]
    assert (stored.pk, stored.seq, stored.type) == (event.pk, event.seq, event.type)
    assert stored.created_at == event.created_at
    assert stored.payload == event.payload == {"payment": as_api(payment)}


@pytest.mark.django_db
def test_a_stale_instance_is_rendered_from_its_row(world):
    """The caller's wallet does not know of a drawdown nor of an UPDATE since: the
    payload is the wallet as it stands, and the numbers stay 1, 2, 3 …"""
    acct, wallet = world["account"], world["wallet"]
    before = rendering.render(wallet)
    wallets.usage_drawdown(wallet=wallet.pk, amount="1.25", reference="m-1", actor=ACTOR)
    with transaction.atomic():
        events.emit_wallet_low_balance(wallet)  # stale: consumed changed
    with transaction.atomic():
        Wallet.objects.filter(pk=wallet.pk).update(name="Renamed")
        events.emit_wallet_depleted(wallet)  # stale: name changed in this transaction
    low, depleted = emitted(acct, T.WALLET_LOW_BALANCE), emitted(acct, T.WALLET_DEPLETED)
    assert low[0].payload["wallet"]["consumed"] == as_api(wallet)["consumed"]
    assert low[0].payload["wallet"]["consumed"] != before["consumed"]
    assert depleted[0].payload == {"wallet": as_api(wallet)}
    assert depleted[0].payload["wallet"]["name"] == "Renamed"
    assert low[0].payload["wallet"]["available"] == depleted[0].payload["wallet"]["available"]
    assert low[0].payload["wallet"]["name"] == "Main"
    seqs = [e.seq for e in events_of(acct)]
    assert seqs == list(range(1, len(seqs) + 1))


@pytest.mark.django_db
def test_a_rolled_back_emit_gives_its_number_back(world):
    acct, payment = world["account"], world["payment"]
    before = len(events_of(acct))
    with pytest.raises(RuntimeError), transaction.atomic():
        events.emit(T.PAYMENT_COMPLETED, account=acct, objects={"payment": payment})
        raise RuntimeError("after the event")
    with transaction.atomic():
        event = events.emit(T.PAYMENT_COMPLETED, account=acct, objects={"payment": payment})
    assert event.seq == before + 1
