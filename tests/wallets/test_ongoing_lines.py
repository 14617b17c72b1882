"""Adding and removing lines of an ongoing invoice: its wallet hold follows the total."""

import pytest
from django.core.management import call_command

from ledger import services as ledger
from ledger.services import LineSpec
from payments import services as pay
from wallets import services as wallets

pytestmark = pytest.mark.django_db


def test_hold_follows_added_and_removed_lines(account, actor):
    wallet = wallets.create_wallet(account=account, name="Usage", actor=actor)
    wallets.top_up(wallet=wallet, amount="100.00", actor=actor, grant=True)
    invoice = ledger.create_invoice(
        account=account, actor=actor, lines=[LineSpec("Rooms", "2", "10.00")]
    )
    ledger.open_invoice(invoice=invoice, actor=actor)
    hold = pay.apply_wallet(wallet=wallet, invoice=invoice, actor=actor)
    assert hold.amount.amount == 20

    added = wallets.add_ongoing_line(
        invoice=invoice, line=LineSpec("Printing", "30", "1.50"), actor=actor
    )
    wallet.refresh_from_db()
    assert wallet.held.amount == 65 and wallet.available.amount == 35

    wallets.remove_ongoing_line(line=added, actor=actor)
    wallet.refresh_from_db()
    assert wallet.held.amount == 20 and wallet.available.amount == 80
    assert wallet.total - wallet.consumed - wallet.held == wallet.available
    call_command("verify_ledger", verbosity=0)
