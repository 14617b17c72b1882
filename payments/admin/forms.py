"""Small forms behind the payment actions. Amounts are decimal strings checked against
the account currency by the services (never rounded, never floats)."""

from django import forms

from ledger.models import Invoice
from ledger.models.invoices import OPEN

from ..models.payments import MANUAL_METHODS, RECEIPT_METHODS, PaymentMethod


def method_choices(allowed):
    return [(m.value, m.label) for m in PaymentMethod if m.value in allowed]


class ReasonForm(forms.Form):
    reason = forms.CharField(required=False, max_length=255, label="Reason (optional)")


class MarkPaidForm(forms.Form):
    method = forms.ChoiceField(choices=method_choices(MANUAL_METHODS))
    amount = forms.DecimalField(
        required=False,
        min_value=0,
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
    amount = forms.DecimalField(
        required=False, min_value=0, help_text="Leave empty for everything that is left."
    )
    reason = forms.CharField(required=False, max_length=255)


class AssignForm(forms.Form):
    invoice = forms.ModelChoiceField(queryset=Invoice.objects.none())
    amount = forms.DecimalField(
        required=False, min_value=0, help_text="Leave empty for what is due on the invoice."
    )

    def __init__(self, *args, obj=None, **kwargs):
        super().__init__(*args, **kwargs)
        if obj is not None:
            self.fields["invoice"].queryset = Invoice.objects.filter(
                account_id=obj.account_id, status__in=OPEN
            ).order_by("due_date", "id")


class RecordPaymentForm(forms.Form):
    amount = forms.DecimalField(min_value=0)
    method = forms.ChoiceField(choices=method_choices(MANUAL_METHODS))
    reference = forms.CharField(required=False, max_length=100, label="Payer reference")
    note = forms.CharField(required=False, max_length=255)
