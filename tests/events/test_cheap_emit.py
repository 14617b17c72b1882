"""The cheap ``emit`` (issue 14's cost target) stores what the slow one stored.

* every registered renderer (one cached serializer, the row read by ``events.snapshot``)
  gives exactly what the API's serializer gives on the ORM's instance, through the API's
  JSON renderer, for every model an event shows;
* on PostgreSQL, an instance the service has just written is rendered as it is and
  written in ONE statement that checks the row holds its values; a stale instance (its
  row changed by an UPDATE it did not see, or an F() not refreshed) is rendered from the
  row as it stands — payload equal to the API's GET, numbers still gapless.
"""

import json

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from billing_site.api.invoice_serializers import InvoiceSerializer
from billing_site.api.payment_serializers import PaymentSerializer
from billing_site.api.wallet_serializers import CreditMemoSerializer, WalletSerializer
from events import rendering, snapshot
from events import services as events
from events.models import EventType
from ledger import services as ledger
from ledger.models import Invoice
from payments import services as pay
from payments.models import Payment
from wallets import services as wallets
from wallets.models import CreditMemo, Wallet

from .conftest import ACTOR, events_of, invoice

T = EventType
SERIALIZERS = {
    Invoice: (InvoiceSerializer, Invoice.objects.prefetch_related("lines")),
    Payment: (PaymentSerializer, Payment.objects.all()),
    Wallet: (WalletSerializer, Wallet.objects.all()),
    CreditMemo: (CreditMemoSerializer, CreditMemo.objects.all()),
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
    return {"account": acct, "wallet": wallet, "invoice": inv, "memo": memo, "payment": payment}


@pytest.mark.django_db
def test_every_renderer_equals_the_api_serializer(world):
    assert rendering.registered() == sorted(m._meta.label for m in SERIALIZERS)
    for key in ("wallet", "invoice", "memo", "payment"):
        obj = world[key]
        with transaction.atomic():
            assert rendering.render(obj) == as_api(obj), key
            fresh = snapshot.of(type(obj)).read(obj.pk)
            assert rendering.render_instance(fresh) == as_api(obj), key


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_instance_as_stored_renders_as_its_row(world):
    """``Snapshot.stored`` of an instance as the service holds it after writing it
    (decimals at the column's scale, Money split as stored) renders as the row."""
    world["wallet"].refresh_from_db()  # create_wallet's instance: top_up wrote by id
    for key in ("wallet", "memo", "payment"):
        obj = world[key]
        stored = snapshot.of(type(obj)).stored(obj)
        assert stored is not None, key
        assert rendering.render_instance(stored[0]) == as_api(obj), key


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_deferred_or_expression_values_are_not_taken_as_stored(world):
    wallet = Wallet.objects.get(pk=world["wallet"].pk)
    assert snapshot.of(Wallet).stored(wallet) is not None
    assert snapshot.of(Wallet).stored(Wallet.objects.only("id").get(pk=wallet.pk)) is None
    wallet.last_seq = F("last_seq") + 1
    assert snapshot.of(Wallet).stored(wallet) is None
    assert not rendering.renders_row(world["invoice"])  # its lines: always read


def emitted(acct, type_):
    return [e for e in events_of(acct) if e.type == type_]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_fresh_instance_is_written_in_one_statement(world):
    acct, payment = world["account"], world["payment"]
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        event = events.emit(T.PAYMENT_COMPLETED, account=acct, objects={"payment": payment})
    statements = [q["sql"] for q in queries.captured_queries]
    assert len([s for s in statements if "events_event" in s]) == 1, statements
    assert not any(s.startswith("SELECT") for s in statements), statements
    stored = emitted(acct, T.PAYMENT_COMPLETED)[-1]
    assert stored.pk == event.pk and stored.seq == event.seq
    assert stored.payload == {"payment": as_api(payment)}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_stale_instance_is_rendered_from_its_row(world):
    """The caller's wallet does not know of a drawdown and of an F() update since: the
    payload is the wallet as it stands, and the numbers stay 1, 2, 3 …"""
    acct, wallet = world["account"], world["wallet"]
    as_held = rendering.render_instance(snapshot.of(Wallet).stored(wallet)[0])
    wallets.usage_drawdown(wallet=wallet.pk, amount="1.25", reference="m-1", actor=ACTOR)
    with transaction.atomic():
        events.emit_wallet_low_balance(wallet)  # stale: consumed changed
    with transaction.atomic():
        Wallet.objects.filter(pk=wallet.pk).update(name="Renamed")
        events.emit_wallet_depleted(wallet)  # stale: name changed in this transaction
    low, depleted = emitted(acct, T.WALLET_LOW_BALANCE), emitted(acct, T.WALLET_DEPLETED)
    assert low[0].payload["wallet"]["consumed"] == as_api(wallet)["consumed"]
    assert low[0].payload["wallet"]["consumed"] != as_held["consumed"]
    assert depleted[0].payload == {"wallet": as_api(wallet)}
    assert depleted[0].payload["wallet"]["name"] == "Renamed"
    assert low[0].payload["wallet"]["available"] == depleted[0].payload["wallet"]["available"]
    assert low[0].payload["wallet"]["name"] == "Main"
    seqs = [e.seq for e in events_of(acct)]
    assert seqs == list(range(1, len(seqs) + 1))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_verified_emit_gives_its_number_back(world):
    acct, payment = world["account"], world["payment"]
    before = len(events_of(acct))
    with pytest.raises(RuntimeError), transaction.atomic():
        events.emit(T.PAYMENT_COMPLETED, account=acct, objects={"payment": payment})
        raise RuntimeError("after the event")
    with transaction.atomic():
        event = events.emit(T.PAYMENT_COMPLETED, account=acct, objects={"payment": payment})
    assert event.seq == before + 1
