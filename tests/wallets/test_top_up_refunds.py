"""Refunds and chargebacks of wallet top-ups take the money back out of the wallet."""

import pytest
from django.core.management import call_command

from ledger.errors import InsufficientFunds
from ledger.models import LedgerEntry
from payments import services as pay
from payments.models import Payment
from wallets import services as wallets
from wallets.models import TxKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def funded(account, actor):
    wallet = wallets.create_wallet(account=account, name="Prepaid", actor=actor)
    top_up = pay.request_wallet_top_up(wallet=wallet, amount="100.00", actor=actor)
    pay.mark_payment_paid(payment=top_up, method="card", actor=actor)
    wallets.usage_drawdown(wallet=wallet, amount="70.00", reference="usage-1", actor=actor)
    wallet.refresh_from_db()
    return wallet, top_up


def test_refund_of_a_top_up_takes_it_back_from_the_wallet(account, actor, funded):
    wallet, top_up = funded
    refund = pay.refund_payment(payment=top_up, amount="20.00", actor=actor)
    wallet.refresh_from_db()
    assert (refund.direction, refund.refund_of_id, refund.wallet_id) == (
        "outgoing",
        top_up.pk,
        wallet.pk,
    )
    assert wallet.total.amount == 80 and wallet.available.amount == 10
    last = wallet.transactions.order_by("-seq").first()
    assert last.kind == TxKind.TOP_UP_REFUND and last.amount.amount == 20
    assert not LedgerEntry.objects.filter(account=account).exists()  # ledger untouched
    call_command("verify_ledger")


def test_refund_beyond_what_is_left_in_the_wallet_is_refused(account, actor, funded):
    wallet, top_up = funded
    before = (Payment.objects.count(), wallet.transactions.count())
    with pytest.raises(InsufficientFunds, match=r"only £30\.00 is available"):
        pay.refund_payment(payment=top_up, actor=actor)
    wallet.refresh_from_db()
    assert (Payment.objects.count(), wallet.transactions.count()) == before
    assert wallet.total.amount == 100


def test_chargeback_of_a_spent_top_up_leaves_the_rest_owed(account, actor, funded):
    wallet, top_up = funded
    dispute = pay.record_dispute(payment=top_up, actor=actor)
    wallet.refresh_from_db()
    account.refresh_from_db()
    assert dispute.dispute_of_id == top_up.pk and dispute.amount.amount == 100
    assert wallet.available.amount == 0 and wallet.total.amount == 70
    entry = LedgerEntry.objects.get(account=account)
    assert (entry.kind, entry.credit.amount) == ("PAYM", -70)
    assert account.balance.amount == -70
    call_command("verify_ledger")
