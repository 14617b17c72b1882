"""Wallets seen from payments: a top-up is a payment that credits its wallet when it
completes; wallet money applied to an invoice shrinks the invoice's waiting payment."""

from django.db import transaction

from ledger import services as ledger
from ledger.errors import StateConflict
from ledger.models import Invoice, InvoiceStatus
from ledger.money import to_money
from ledger.services import Actor
from wallets import services as wallets
from wallets.models import Wallet

from ..models import Payment, PaymentType
from .common import create_payment
from .completion import clean_method
from .waiting import sync_open_payment


def request_wallet_top_up(
    *, wallet: Wallet | int, amount, actor: Actor, method: str = "", due_date=None
) -> Payment:
    """Open a ``top_up`` payment for a wallet; the wallet is credited when it completes."""
    wallet_id = wallet.pk if isinstance(wallet, Wallet) else int(wallet)
    with transaction.atomic():
        account_id = Wallet.objects.values_list("account_id", flat=True).get(pk=wallet_id)
        account = ledger.lock_account(account_id)
        locked = wallets.lock_wallet(wallet_id)
        if not locked.is_active:
            raise StateConflict(f"Wallet '{locked.name}' is closed.", field="wallet")
        if method:
            clean_method(method)
        return create_payment(
            account=account,
            type=PaymentType.TOP_UP,
            amount=to_money(amount, account.currency),
            actor=actor,
            method=method,
            due_date=due_date,
            wallet=locked,
            reason=f"top-up of wallet '{locked.name}'",
        )


def apply_wallet(
    *, wallet: Wallet | int, invoice: Invoice | int, actor: Actor, amount=None, at=None
):
    """Apply wallet money to an invoice and shrink (or cancel) its waiting payment."""
    with transaction.atomic():
        result = wallets.apply_to_invoice(
            wallet=wallet, invoice=invoice, actor=actor, amount=amount, at=at
        )
        _account, locked = ledger.lock_invoice(invoice)
        if locked.status != InvoiceStatus.ONGOING:
            sync_open_payment(locked, actor, reason="prepaid from wallet")
        return result
