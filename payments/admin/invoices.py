"""The invoice admin with the payment actions staff take on an invoice: mark as paid,
refund, pay from balance, apply wallet money. Registered in place of the ledger's (the
ledger app does not know about payments)."""

from django import forms
from django.contrib import admin

from ledger.admin.invoices import InvoiceAdmin
from ledger.admin_actions import ObjectAction, ObjectActionsMixin
from ledger.errors import StateConflict
from ledger.models import Invoice, InvoiceStatus
from ledger.models.invoices import OPEN
from wallets.models import Wallet

from ..services import (
    apply_wallet,
    create_payment_link,
    force_direct_debit,
    mark_invoice_paid,
    pay_from_balance,
    refund_invoice,
)
from ..services.common import open_payment_for
from .forms import AmountReasonForm, MarkPaidForm


def _amount(data):
    value = data.get("amount")
    return None if value in (None, "") else str(value)


class DirectDebitForm(forms.Form):
    iban = forms.CharField(max_length=42, label="IBAN of the member's mandate")


class LinkForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=90, initial=14, label="Valid for (days)")


def _create_link(invoice, actor, data):
    link = create_payment_link(invoice=invoice.pk, actor=actor, days=data.get("days"))
    return link


class InvoiceWalletForm(forms.Form):
    wallet = forms.ModelChoiceField(queryset=Wallet.objects.none())
    amount = forms.DecimalField(
        required=False, min_value=0, help_text="Leave empty for the lesser of due and available."
    )

    def __init__(self, *args, obj=None, **kwargs):
        super().__init__(*args, **kwargs)
        if obj is not None:
            self.fields["wallet"].queryset = Wallet.objects.filter(
                account_id=obj.account_id, status="active"
            )


def _pay_from_balance(invoice, actor, data):
    payment = open_payment_for(invoice)
    if payment is None:
        raise StateConflict(f"Invoice {invoice} has no payment waiting.", "invoice")
    return pay_from_balance(payment=payment.pk, actor=actor)


INVOICE_ACTIONS = {
    "mark_paid": ObjectAction(
        label="Mark as paid",
        permission="payments.mark_paid",
        form=MarkPaidForm,
        run=lambda inv, a, d: mark_invoice_paid(
            invoice=inv.pk,
            actor=a,
            method=d["method"],
            amount=_amount(d),
            reference=d.get("reference", ""),
            note=d.get("note", ""),
        ),
        done="Payment recorded for invoice {number}.",
        offered=lambda inv, user: inv.status in OPEN,
    ),
    "pay_from_balance": ObjectAction(
        label="Pay from balance",
        permission="payments.pay_from_balance",
        run=_pay_from_balance,
        done="Invoice {number} paid from the account balance.",
        offered=lambda inv, user: inv.status in OPEN and inv.account.balance.amount > 0,
    ),
    "apply_wallet": ObjectAction(
        label="Apply wallet money",
        permission="wallets.apply_wallet",
        form=InvoiceWalletForm,
        form_needs_object=True,
        run=lambda inv, a, d: apply_wallet(
            wallet=d["wallet"].pk, invoice=inv.pk, amount=_amount(d), actor=a
        ),
        done="Wallet money applied to invoice {number}.",
        offered=lambda inv, user: inv.status in (*OPEN, InvoiceStatus.ONGOING),
    ),
    "force_direct_debit": ObjectAction(
        label="Force direct debit",
        permission="payments.mark_paid",
        form=DirectDebitForm,
        run=lambda inv, a, d: force_direct_debit(invoice=inv.pk, iban=d["iban"], actor=a),
        done="Direct debit started for invoice {number}: processing until the bank confirms.",
        offered=lambda inv, user: inv.status in OPEN,
    ),
    "payment_link": ObjectAction(
        label="Create payment link",
        permission="payments.mark_paid",
        form=LinkForm,
        run=_create_link,
        done="Payment link created for invoice {number}: see Payment links.",
        offered=lambda inv, user: inv.status in OPEN,
    ),
    "refund": ObjectAction(
        label="Refund",
        permission="payments.refund_payment",
        form=AmountReasonForm,
        run=lambda inv, a, d: refund_invoice(
            invoice=inv.pk, actor=a, amount=_amount(d), reason=d.get("reason", "")
        ),
        done="Refund recorded for invoice {number}.",
        offered=lambda inv, user: inv.amount_paid.amount > 0,
    ),
}


class PaymentsInvoiceAdmin(ObjectActionsMixin, InvoiceAdmin):
    object_actions = INVOICE_ACTIONS
    change_form_template = "admin/ledger/invoice/payments_change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account")


admin.site.unregister(Invoice)
admin.site.register(Invoice, PaymentsInvoiceAdmin)

__all__ = ["PaymentsInvoiceAdmin"]
