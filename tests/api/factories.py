"""A small world of objects for the API tests, built through the services."""

from dataclasses import dataclass
from datetime import date

from ledger import services as ledger
from ledger.models import Account, AccountGroup, Invoice
from ledger.services import LineSpec
from payments import services as pay
from payments.models import Mandate, Payment
from wallets import services as wallets
from wallets.models import CreditMemo, Hold, Wallet

ACTOR = ledger.system_actor("api-tests")


def invoice(account, *amounts, issue=False, ongoing=False):
    lines = [LineSpec(f"Line {i + 1}", "1", a) for i, a in enumerate(amounts or ("75.00",))]
    draft = ledger.create_invoice(account=account, actor=ACTOR, lines=lines)
    if ongoing:
        return ledger.open_invoice(invoice=draft, actor=ACTOR)
    if issue:
        return pay.issue_invoice(invoice=draft, actor=ACTOR)
    return draft


def waiting(inv) -> Payment:
    return inv.payments.filter(status__in=["waiting_for_payment", "pending_billing"]).get()


@dataclass
class Side:
    """One account with one of everything."""

    group: AccountGroup
    account: Account
    draft: Invoice
    issued: Invoice
    ongoing: Invoice
    payment: Payment  # completed, credit
    wallet: Wallet
    hold: Hold
    memo: CreditMemo
    mandate: Mandate


def side(name: str) -> Side:
    group = ledger.create_group(name=f"{name} group", actor=ACTOR)
    account = ledger.create_account(
        name=name, email=f"{name.lower()}@example.test", currency="GBP", actor=ACTOR, group=group
    )
    issued = invoice(account, "100.00", issue=True)
    payment = pay.record_payment(account=account, amount="20.00", method="cash", actor=ACTOR)
    wallet = wallets.create_wallet(account=account, name="Main", actor=ACTOR)
    wallets.top_up(wallet=wallet, amount="500.00", actor=ACTOR, grant=True)
    pay.apply_wallet(wallet=wallet, invoice=issued, amount="10.00", actor=ACTOR)
    ongoing = invoice(account, "30.00", ongoing=True)
    hold = pay.apply_wallet(wallet=wallet, invoice=ongoing, actor=ACTOR)
    return Side(
        group=group,
        account=account,
        draft=invoice(account, "40.00"),
        issued=issued,
        ongoing=ongoing,
        payment=payment,
        wallet=wallet,
        hold=hold,
        memo=CreditMemo.objects.filter(invoice=issued).first(),
        mandate=pay.create_mandate(
            account=account,
            reference=f"MD-{name}",
            signed_on=date(2026, 1, 5),
            iban="DE89 3704 0044 0532 0130 00",
            actor=ACTOR,
        ),
    )


def _first_event(account) -> str:
    from events.models import Event

    return str(Event.objects.filter(account=account).order_by("seq").first().pk)


def ids_of(s: Side) -> dict:
    """Path parameters pointing at this side's objects, per resource."""
    return {
        "accounts": s.account.pk,
        "account-groups": s.group.pk,
        "invoices": s.draft.pk,
        "payments": s.payment.pk,
        "wallets": s.wallet.pk,
        "credit-memos": s.memo.pk,
        "mandates": s.mandate.pk,
        "events": _first_event(s.account),
        "line_id": s.draft.lines.first().pk,
        "hold_id": s.hold.pk,
    }
