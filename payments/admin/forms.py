"""Small forms behind the payment actions. Amounts are decimal strings checked against
the account currency by the services (never rounded, never floats)."""

from datetime import datetime, time

from django import forms
from django.utils import timezone

from ledger.errors import BillingError
from ledger.forms import AmountField
from ledger.money import to_money

from ..models.payments import MANUAL_METHODS, RECEIPT_METHODS, PaymentMethod


def method_choices(allowed):
    return [(m.value, m.label) for m in PaymentMethod if m.value in allowed]


class ReasonForm(forms.Form):
    reason = forms.CharField(required=False, max_length=255, label="Reason (optional)")


class MarkPaidForm(forms.Form):
    method = forms.ChoiceField(choices=method_choices(MANUAL_METHODS))
    amount = AmountField(
        required=False,
        label="Amount received",
        help_text="Leave empty for the full amount. Less leaves the rest waiting; "
        "more leaves the surplus on the account as credit.",
    )
    reference = forms.CharField(required=False, max_length=100, label="Payer reference")
    note = forms.CharField(required=False, max_length=255)

    def __init__(self, *args, obj=None, **kwargs):
        super().__init__(*args, **kwargs)
        if obj is not None and obj.method in MANUAL_METHODS:
            self.fields["method"].initial = obj.method


class ReceiptForm(forms.Form):
    method = forms.ChoiceField(choices=method_choices(RECEIPT_METHODS))
    note = forms.CharField(required=False, max_length=255)


class AmountReasonForm(forms.Form):
    amount = AmountField(required=False, help_text="Leave empty for everything that is left.")
    reason = forms.CharField(required=False, max_length=255)


# --- money received on an account or a group -------------------------------------------


def _date_input(**attrs):
    return forms.DateInput(attrs={"type": "date", **attrs}, format="%Y-%m-%d")


def received_at(received_on, last_posted_at):
    """The time a payment received on ``received_on`` is posted: now when it is today,
    else noon that day — or the account's last posting, if that was later the same day
    (the ledger is in time order)."""
    if received_on is None or received_on >= timezone.localdate():
        return None
    noon = timezone.make_aware(datetime.combine(received_on, time(12)))
    return max(noon, last_posted_at) if last_posted_at else noon


def check_received_on(received_on, last_posted_at, whose: str):
    """Not in the future, and not before the last posting (docs/RULES.md)."""
    today = timezone.localdate()
    if received_on > today:
        raise forms.ValidationError("The date received cannot be in the future.")
    if last_posted_at is not None:
        last = timezone.localdate(last_posted_at)
        if received_on < last:
            raise forms.ValidationError(
                f"The ledger of {whose} is kept in date order and its last entry is dated "
                f"{last:%d %b %Y}: give that date or a later one (the note can say when the "
                "money actually arrived)."
            )
    return received_on


def checked_amount(value, currency: str):
    """A positive amount at the currency's precision (refused, never rounded)."""
    try:
        money = to_money(value, currency)
    except BillingError as exc:
        raise forms.ValidationError(exc.detail.removeprefix("amount: ")) from None
    if money.amount <= 0:
        raise forms.ValidationError("Must be more than zero.")
    return value


class ReceivedForm(forms.Form):
    """What staff type when money arrives: method, date received, amount, reference."""

    method = forms.ChoiceField(choices=method_choices(MANUAL_METHODS))
    received_on = forms.DateField(
        label="Date received",
        required=False,
        widget=_date_input(),
        help_text="The day the money arrived (empty: today).",
    )
    amount = AmountField(positive=True)
    reference = forms.CharField(
        required=False,
        max_length=100,
        label="Payer reference",
        help_text="As on the bank statement, the cheque number, the till receipt.",
    )

    currency = "GBP"
    last_posted_at = None
    whose = ""

    def setup(self, *, currency: str, last_posted_at, whose: str) -> None:
        self.currency, self.last_posted_at, self.whose = currency, last_posted_at, whose
        today = timezone.localdate()
        self.fields["received_on"].initial = today
        self.fields["received_on"].widget.attrs["max"] = today.isoformat()
        if last_posted_at is not None:
            first = timezone.localdate(last_posted_at).isoformat()
            self.fields["received_on"].widget.attrs["min"] = first
        self.fields["amount"].label = f"Amount ({currency})"

    def clean_received_on(self):
        received_on = self.cleaned_data["received_on"] or timezone.localdate()
        return check_received_on(received_on, self.last_posted_at, self.whose)

    def clean_amount(self):
        return checked_amount(self.cleaned_data["amount"], self.currency)

    @property
    def at(self):
        return received_at(self.cleaned_data.get("received_on"), self.last_posted_at)


class RecordPaymentForm(ReceivedForm):
    """Money received without an invoice: it stays on the account as credit until it
    is assigned (or paid out by a new invoice at issue)."""

    note = forms.CharField(required=False, max_length=255)

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup(
            currency=account.currency, last_posted_at=account.last_posted_at, whose=account.name
        )


class GroupPaymentForm(ReceivedForm):
    """Money received for an account group, split over its accounts' open invoices."""

    leftover_account = forms.ModelChoiceField(
        queryset=None,
        label="Leftover credit to",
        help_text="What is left once every open invoice of the group is paid stays on "
        "this account as credit.",
    )

    def __init__(self, *args, group, **kwargs):
        super().__init__(*args, **kwargs)
        accounts = group.accounts.order_by("name", "id")
        self.fields["leftover_account"].queryset = accounts
        self.fields["leftover_account"].initial = group.admin_account_id or (
            accounts.values_list("pk", flat=True).first()
        )
        currencies = sorted({c for c in accounts.values_list("currency", flat=True)})
        last = max(
            (t for t in accounts.values_list("last_posted_at", flat=True) if t), default=None
        )
        self.setup(
            currency=currencies[0] if len(currencies) == 1 else "—",
            last_posted_at=last,
            whose="the group's accounts",
        )
