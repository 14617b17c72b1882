"""The actions staff take on an invoice's page — each a payments use case (or the
ledger's, for opening a draft as ongoing): open as ongoing, issue, mark as paid, pay
from balance, apply wallet money, force direct debit, payment link (copied or emailed),
send reminder now, refund, record dispute, cancel. Every form shows the invoice's money first."""

from django import forms
from django.contrib import messages
from moneyed import Money

from ledger import services as ledger
from ledger.admin.invoice_forms import CancelReasonForm
from ledger.admin_actions import ObjectAction, optional_amount
from ledger.forms import AmountField
from ledger.models import InvoiceStatus
from ledger.models.invoices import OPEN, UNPOSTED
from ledger.money import format_money
from wallets.models import Hold, Wallet

from .. import services
from ..models import Payment, PaymentStatus
from ..services import dunning
from ..services.dunning_mail import REMINDABLE
from .dunning import ReminderNowForm, reminder_done, reminder_figures, reminder_refusal
from .forms import AmountReasonForm, MarkPaidForm
from .invoice_extras import cancelled_words, invoice_figures, issued_words
from .link_email import create_link, link_done
from .payment_extras import DirectDebitForm, direct_debit_figures


class LinkForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=90, initial=14, label="Valid for (days)")
    email = forms.BooleanField(required=False, initial=True, label="Email it to the member now")
    to = forms.EmailField(
        required=False, label="Email to", help_text="Leave empty for the account's email."
    )

    def __init__(self, *args, obj=None, **kwargs):
        super().__init__(*args, **kwargs)
        if obj is not None:
            self.fields["to"].widget.attrs["placeholder"] = obj.account.email


class IssueForm(forms.Form):
    due_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Leave empty for the invoice's own due date, or the account's payment terms.",
    )


class InvoiceWalletForm(forms.Form):
    wallet = forms.ModelChoiceField(queryset=Wallet.objects.none())
    amount = AmountField(
        required=False, help_text="Leave empty for the lesser of due and available."
    )

    def __init__(self, *args, obj=None, **kwargs):
        super().__init__(*args, **kwargs)
        if obj is not None:
            wallets = Wallet.objects.filter(account_id=obj.account_id, status="active")
            self.fields["wallet"].queryset = wallets.order_by("name")
            self.fields["wallet"].label_from_instance = lambda w: (
                f"{w.name} — {format_money(w.available)} available"
            )
            if obj.status == InvoiceStatus.ONGOING:
                self.fields["amount"].help_text = (
                    "Leave empty to hold the invoice's whole amount as it follows consumption "
                    "(as much as the wallet has); a figure caps the hold."
                )


def _disputable(invoice):
    return Payment.objects.filter(
        invoice=invoice, direction="incoming", status=PaymentStatus.COMPLETED
    ).order_by("-completed_at", "-id")


class DisputeForm(AmountReasonForm):
    payment = forms.ModelChoiceField(queryset=Payment.objects.none(), label="Payment disputed")
    field_order = ("payment", "amount", "reason")

    def __init__(self, *args, obj=None, **kwargs):
        super().__init__(*args, **kwargs)
        if obj is not None:
            payments = _disputable(obj)
            self.fields["payment"].queryset = payments
            self.fields["payment"].initial = payments.values_list("pk", flat=True).first()
            self.fields["payment"].label_from_instance = lambda p: (
                f"{p.number} — {format_money(p.reversible)} of {format_money(p.amount)}, "
                f"{p.get_method_display().lower()}"
            )


def _may_dispute(invoice) -> bool:
    return any(p.reversible.amount > 0 for p in _disputable(invoice))


def _wallet_context(invoice):
    rows = invoice_figures(invoice)
    for wallet in Wallet.objects.filter(account_id=invoice.account_id, status="active"):
        rows.append((f"Wallet '{wallet.name}' available", wallet.available))
    return rows


def _balance_context(invoice):
    return [*invoice_figures(invoice), ("Account balance", invoice.account.balance)]


def _wallet_done(invoice, result) -> str:
    if isinstance(result, Hold):
        return (
            f"Wallet '{result.wallet.name}' holds {format_money(result.amount)} for {invoice}; "
            "the hold follows the invoice until it is issued."
        )
    prepaid = sum((memo.amount for memo in result), Money(0, invoice.currency))
    return f"{format_money(prepaid)} prepaid from the wallet on invoice {invoice}."


def _link_done(invoice, result):
    text = link_done(invoice, result)
    return (text, messages.WARNING) if result.tried and not result.sent else text


INVOICE_ACTIONS = {
    "open_ongoing": ObjectAction(
        label="Open as ongoing",
        permission="ledger.change_invoice",
        run=lambda inv, a, d: ledger.open_invoice(invoice=inv.pk, actor=a),
        done=lambda inv, _r: f"{inv} is open: its amount follows consumption until it is issued.",
        offered=lambda inv, user: inv.status == InvoiceStatus.DRAFT,
        context=invoice_figures,
        help="An ongoing invoice stays open while usage is added to it; wallet money can "
        "hold its amount, and the hold follows every change of its lines.",
    ),
    "issue": ObjectAction(
        label="Issue",
        permission="ledger.change_invoice",
        form=IssueForm,
        run=lambda inv, a, d: services.issue_invoice(
            invoice=inv.pk, actor=a, due_date=d.get("due_date")
        ),
        done=lambda inv, issued: issued_words(inv, issued),
        offered=lambda inv, user: inv.status in UNPOSTED and inv.total.amount > 0,
        context=_balance_context,
        help="Issuing numbers the invoice and posts its total to the ledger (INVC). Wallet "
        "holds become prepayments, the account's credit pays what it can, and a payment "
        "waits for the rest. An issued invoice is no longer edited.",
    ),
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
        context=invoice_figures,
    ),
    "pay_from_balance": ObjectAction(
        label="Pay from balance",
        permission="payments.pay_from_balance",
        run=lambda inv, a, d: services.pay_invoice_from_balance(invoice=inv.pk, actor=a),
        done="Invoice {number} paid from the account balance.",
        offered=lambda inv, user: inv.status in OPEN and inv.account.balance.amount > 0,
        context=_balance_context,
        help="The account's credit pays what is due: PAYM + and CRED − are posted.",
    ),
    "apply_wallet": ObjectAction(
        label="Apply wallet money",
        permission="wallets.apply_wallet",
        form=InvoiceWalletForm,
        form_needs_object=True,
        run=lambda inv, a, d: services.apply_wallet(
            wallet=d["wallet"].pk, invoice=inv.pk, amount=optional_amount(d), actor=a
        ),
        done=lambda inv, result: _wallet_done(inv, result),
        offered=lambda inv, user: inv.status in (*OPEN, InvoiceStatus.ONGOING),
        context=_wallet_context,
    ),
    "force_direct_debit": ObjectAction(
        label="Force direct debit",
        permission="payments.mark_paid",
        form=DirectDebitForm,
        form_needs_object=True,
        run=lambda inv, a, d: services.force_direct_debit(
            invoice=inv.pk, iban=d.get("iban") or None, actor=a
        ),
        done="Direct debit started for invoice {number}: processing until the bank confirms.",
        offered=lambda inv, user: inv.status in OPEN,
        context=lambda inv: invoice_figures(inv) + direct_debit_figures(inv),
    ),
    "payment_link": ObjectAction(
        label="Payment link",
        permission="payments.mark_paid",
        form=LinkForm,
        form_needs_object=True,
        run=create_link,
        run_needs_request=True,
        done=_link_done,
        offered=lambda inv, user: inv.status in OPEN,
        context=invoice_figures,
        help="A link the member opens to pay this invoice by card, without logging in. It "
        "is shown to copy, and emailed to the member if you ask.",
    ),
    "send_reminder": ObjectAction(
        label="Send reminder now",
        permission="payments.add_reminder",
        form=ReminderNowForm,
        form_needs_object=True,
        run=lambda inv, a, d: dunning.send_reminder_now(invoice=inv.pk, level=d["level"], actor=a),
        done=reminder_done,
        offered=lambda inv, user: inv.status in REMINDABLE and inv.amount_due.amount > 0,
        refusal=reminder_refusal,
        context=reminder_figures,
        help="Email the member this reminder level now, with the invoice's payment link. "
        "Each level goes once per invoice; the reminder run will not send it again.",
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
        context=invoice_figures,
    ),
    "dispute": ObjectAction(
        label="Record dispute",
        permission="payments.record_dispute",
        form=DisputeForm,
        form_needs_object=True,
        run=lambda inv, a, d: services.record_dispute(
            payment=d["payment"].pk,
            actor=a,
            amount=optional_amount(d),
            reason=d.get("reason", ""),
        ),
        done=lambda inv, dispute: (
            f"Dispute {dispute.number} recorded on invoice {inv}: "
            f"{format_money(dispute.amount)} is owed again."
        ),
        offered=lambda inv, user: inv.amount_paid.amount > 0 and _may_dispute(inv),
        context=invoice_figures,
        help="The bank took the money back (a chargeback): the invoice is disputed and owed "
        "again until a new payment settles it.",
    ),
    "cancel": ObjectAction(
        label="Cancel invoice",
        permission="ledger.change_invoice",
        form=CancelReasonForm,
        run=lambda inv, a, d: services.cancel_invoice(
            invoice=inv.pk, actor=a, reason=d.get("reason", "").strip()
        ),
        done=lambda inv, cancelled: cancelled_words(inv, cancelled),
        offered=lambda inv, user: (
            inv.status in (*UNPOSTED, InvoiceStatus.DUE)
            and inv.amount_paid.amount == 0
            and inv.amount_credited.amount == 0
        ),
        context=invoice_figures,
        help="A cancelled invoice owes nothing. An issued one gets a negative INVC for what "
        "it still owed; its waiting payment is cancelled and wallet holds are released. "
        "An invoice with money paid or prepaid on it is refunded instead.",
    ),
}
