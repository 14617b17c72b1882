"""Assign a payment's free money to several chosen invoices at once (SPEC section 5).

One row per open invoice of the account, oldest due first: a box to choose it and an
amount. An empty amount means what is due on that invoice, as far as the payment's free
money goes (``Payment.unallocated``), taken oldest first; a typed amount is checked
against what is due and what is free. The service re-checks all of it under its locks
(and the account's free credit); a refusal shows the form again with what was typed.
"""

from dataclasses import dataclass

from django import forms
from moneyed import Money

from ledger.errors import BillingError
from ledger.forms import AmountField
from ledger.models import Invoice
from ledger.models.invoices import OPEN
from ledger.money import format_money, to_money

from ..models import Payment, PaymentStatus


@dataclass
class AssignRow:
    invoice: Invoice
    pick: forms.BoundField | None  # None: not payable yet (waiting for the ERP)
    amount: forms.BoundField | None


def _waiting_erp(invoices) -> set[int]:
    return set(
        Payment.objects.filter(
            invoice__in=invoices, direction="incoming", status=PaymentStatus.PENDING_BILLING
        ).values_list("invoice_id", flat=True)
    )


class AssignForm(forms.Form):
    def __init__(self, *args, obj: Payment, **kwargs):
        super().__init__(*args, **kwargs)
        self.payment = obj
        self.currency = obj.currency
        self.invoices = list(
            Invoice.objects.filter(account_id=obj.account_id, status__in=OPEN).order_by(
                "due_date", "issue_date", "id"
            )
        )
        self.not_payable = _waiting_erp(self.invoices)
        for invoice in self.invoices:
            if invoice.pk in self.not_payable:
                continue
            self.fields[f"pick-{invoice.pk}"] = forms.BooleanField(
                required=False, label=f"Assign to {invoice}"
            )
            self.fields[f"amount-{invoice.pk}"] = AmountField(
                required=False,
                currency=invoice.currency,
                label=f"Amount for {invoice}",
                widget=forms.NumberInput(
                    attrs={"step": "any", "placeholder": format_money(invoice.amount_due)}
                ),
            )

    def rows(self) -> list[AssignRow]:
        return [
            AssignRow(inv, None, None)
            if inv.pk in self.not_payable
            else AssignRow(inv, self[f"pick-{inv.pk}"], self[f"amount-{inv.pk}"])
            for inv in self.invoices
        ]

    def _money(self, invoice: Invoice, left: Money) -> Money | None:
        name = f"amount-{invoice.pk}"
        typed = self.cleaned_data.get(name)
        if typed is None:
            return min(invoice.amount_due, left)
        try:
            money = to_money(str(typed), self.currency)
        except BillingError as exc:
            self.add_error(name, exc.detail.removeprefix("amount: "))
            return None
        if money.amount <= 0 or money > invoice.amount_due:
            self.add_error(
                name,
                f"Between {format_money(Money('0.01', self.currency))} and the "
                f"{format_money(invoice.amount_due)} due on {invoice}.",
            )
            return None
        return money

    def clean(self):
        data = super().clean()
        chosen = [i for i in self.invoices if data.get(f"pick-{i.pk}")]
        if not chosen:
            raise forms.ValidationError("Choose at least one invoice.")
        free = self.payment.unallocated
        left, allocations = free, []
        for invoice in chosen:
            money = self._money(invoice, left)
            if money is None:
                continue
            if money.amount <= 0:
                self.add_error(
                    f"amount-{invoice.pk}",
                    f"Nothing of this payment is left for {invoice}: the invoices above "
                    "take all it has free.",
                )
                continue
            allocations.append((invoice.pk, str(money.amount)))
            left -= money
        if left.amount < 0:
            raise forms.ValidationError(
                f"That is {format_money(free - left)} in all, more than the "
                f"{format_money(free)} payment {self.payment.number} has free."
            )
        data["allocations"] = allocations
        return data
