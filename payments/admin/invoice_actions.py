"""The actions staff take on an invoice's page: mark as paid, pay from balance, apply
wallet money, force direct debit, payment link, refund — each a payments use case."""

from django import forms

from ledger.admin_actions import ObjectAction, optional_amount
from ledger.models import InvoiceStatus
from ledger.models.invoices import OPEN
from wallets.models import Wallet

from .. import services
from .forms import AmountReasonForm, MarkPaidForm


class DirectDebitForm(forms.Form):
    iban = forms.CharField(max_length=42, label="IBAN of the member's mandate")


class LinkForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=90, initial=14, label="Valid for (days)")


def _create_link(invoice, actor, data):
    link = services.create_payment_link(invoice=invoice.pk, actor=actor, days=data.get("days"))
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


INVOICE_ACTIONS = {
    "mark_paid": ObjectAction(
        label="Mark as paid",
        permission="payments.mark_paid",
        form=MarkPaidForm,
        run=lambda inv, a, d: services.mark_invoice_paid(
            invoice=inv.pk,
            actor=a,
            method=d["method"],
            amount=optional_amount(d),
            reference=d.get("reference", ""),
            note=d.get("note", ""),
        ),
        done="Payment recorded for invoice {number}.",
        offered=lambda inv, user: inv.status in OPEN,
    ),
    "pay_from_balance": ObjectAction(
        label="Pay from balance",
        permission="payments.pay_from_balance",
        run=lambda inv, a, d: services.pay_invoice_from_balance(invoice=inv.pk, actor=a),
        done="Invoice {number} paid from the account balance.",
        offered=lambda inv, user: inv.status in OPEN and inv.account.balance.amount > 0,
    ),
    "apply_wallet": ObjectAction(
        label="Apply wallet money",
        permission="wallets.apply_wallet",
        form=InvoiceWalletForm,
        form_needs_object=True,
        run=lambda inv, a, d: services.apply_wallet(
            wallet=d["wallet"].pk, invoice=inv.pk, amount=optional_amount(d), actor=a
        ),
        done="Wallet money applied to invoice {number}.",
        offered=lambda inv, user: inv.status in (*OPEN, InvoiceStatus.ONGOING),
    ),
    "force_direct_debit": ObjectAction(
        label="Force direct debit",
        permission="payments.mark_paid",
        form=DirectDebitForm,
        run=lambda inv, a, d: services.force_direct_debit(invoice=inv.pk, iban=d["iban"], actor=a),
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
        run=lambda inv, a, d: services.refund_invoice(
            invoice=inv.pk, actor=a, amount=optional_amount(d), reason=d.get("reason", "")
        ),
        done="Refund recorded for invoice {number}.",
        offered=lambda inv, user: inv.amount_paid.amount > 0,
    ),
}
