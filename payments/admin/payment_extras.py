"""Pieces of the payment page's actions: the figures each action's form shows first,
the direct-debit form, and the words of an assignment."""

from django import forms

from ledger.money import format_money

from ..models import Payment, PaymentStatus
from ..selectors import active_mandate


def figures(p: Payment) -> list[tuple[str, object]]:
    """What staff see above every payment action's form: the payment, what its invoice
    still owes, what it has free, the account's balance."""
    rows = [
        ("Payment", f"{p.number} — {p.get_type_display()}, {p.get_direction_display().lower()}"),
        ("Status", p.get_status_display()),
        ("Method", p.get_method_display() or "not chosen yet"),
        ("Amount", p.amount),
    ]
    if p.invoice_id:
        rows.append((f"Still due on invoice {p.invoice}", p.invoice.amount_due))
    if p.wallet_id:
        rows.append(("For wallet", p.wallet.name))
    elif p.status == PaymentStatus.COMPLETED and p.direction == "incoming":
        rows.append(("Free to assign", p.unallocated))
    if p.status == PaymentStatus.COMPLETED and p.direction == "incoming":
        rows.append(("May still be refunded", p.reversible))
    rows.append((f"Balance of {p.account.name}", p.account.balance))
    return rows


class DirectDebitForm(forms.Form):
    """The IBAN is optional when the account has an active mandate (used by default)."""

    iban = forms.CharField(max_length=42, label="IBAN of the member's mandate")

    def __init__(self, *args, obj=None, **kwargs):
        super().__init__(*args, **kwargs)
        mandate = active_mandate(obj.account_id) if obj is not None else None
        if mandate is not None:
            self.fields["iban"].required = False
            self.fields["iban"].label = "IBAN (optional)"
            self.fields["iban"].help_text = (
                f"Leave empty to collect under the account's mandate {mandate.reference} "
                f"({mandate.iban_masked})."
            )


def direct_debit_figures(p) -> list[tuple[str, object]]:
    """The mandate a direct debit would use, under the page's other figures."""
    mandate = active_mandate(p.account_id)
    words = f"{mandate.reference} ({mandate.iban_masked})" if mandate else "none: type the IBAN"
    return [("Direct-debit mandate", words)]


def assigned_words(allocations) -> str:
    parts = [f"{format_money(a.amount)} to {a.invoice}" for a in allocations]
    return "assigned " + ", ".join(parts)
