"""Bodies of the account and group endpoints beyond the records themselves: a group
payment (in and out) and an account's whole position."""

from rest_framework import serializers

from billing_site.api.fields import MoneyField
from payments.models.payments import MANUAL_METHODS


class GroupPaymentInput(serializers.Serializer):
    amount = MoneyField(positive=True, help_text="In the group's one currency; positive.")
    method = serializers.ChoiceField(choices=sorted(MANUAL_METHODS))
    leftover_account = serializers.IntegerField(
        min_value=1,
        help_text="The account of the group that keeps what is left as credit once every "
        "open invoice of the group is paid.",
    )
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    received_at = serializers.DateTimeField(
        required=False,
        help_text="When the money arrived (default: now); not before the last posting of "
        "any account of the group.",
    )


class AllocationOut(serializers.Serializer):
    invoice = serializers.IntegerField(source="invoice_id")
    invoice_number = serializers.CharField(source="invoice.number")
    amount = MoneyField()


class GroupPaymentPart(serializers.Serializer):
    """One account's share: its own completed payment and ``PAYM`` entry."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    reference = serializers.CharField(source="reference_code")
    account = serializers.IntegerField(source="account_id")
    type = serializers.CharField()
    status = serializers.CharField()
    amount = MoneyField()
    amount_allocated = MoneyField(help_text="Applied to the account's invoices.")
    credit = MoneyField(source="unallocated", help_text="Kept on the account as credit.")
    allocations = AllocationOut(many=True, source="allocations.all")


class GroupPaymentResult(serializers.Serializer):
    id = serializers.IntegerField()
    group = serializers.IntegerField(source="group_id")
    amount = MoneyField()
    method = serializers.CharField()
    reference = serializers.CharField()
    created_at = serializers.DateTimeField()
    payments = GroupPaymentPart(many=True, source="ordered_payments")


class OwedInvoiceOut(serializers.Serializer):
    invoice = serializers.IntegerField(source="invoice.pk")
    number = serializers.CharField(source="invoice.number")
    status = serializers.CharField(source="invoice.status")
    due_date = serializers.DateField(source="invoice.due_date", allow_null=True)
    total = MoneyField(source="invoice.total")
    due = MoneyField()
    overdue = serializers.BooleanField()
    days_overdue = serializers.IntegerField()


class HoldOut(serializers.Serializer):
    hold = serializers.IntegerField(source="pk")
    invoice = serializers.IntegerField(source="invoice_id")
    amount = MoneyField()


class WalletPositionOut(serializers.Serializer):
    wallet = serializers.IntegerField(source="wallet.pk")
    name = serializers.CharField(source="wallet.name")
    status = serializers.CharField(source="wallet.status")
    total = MoneyField()
    consumed = MoneyField()
    held = MoneyField()
    available = MoneyField()
    holds = HoldOut(many=True)


class TopUpOut(serializers.Serializer):
    payment = serializers.IntegerField(source="pk")
    number = serializers.CharField()
    wallet = serializers.IntegerField(source="wallet_id", allow_null=True)
    status = serializers.CharField()
    amount = MoneyField()


class PositionSerializer(serializers.Serializer):
    """``payments.selectors.account_position``: the same figures as the staff page and
    the member home."""

    account = serializers.IntegerField(source="account.pk")
    currency = serializers.CharField(source="account.currency")
    balance = MoneyField(help_text="Credits − debits: positive is in credit.")
    free_credit = MoneyField(help_text="Received and not yet applied to any invoice.")
    owed = MoneyField(help_text="What the open invoices still owe.")
    overdue = MoneyField(help_text="The part of `owed` past its due date.")
    invoices = OwedInvoiceOut(many=True)
    wallets = WalletPositionOut(many=True)
    waiting_top_ups = TopUpOut(many=True)


class VerificationSerializer(serializers.Serializer):
    """``ledger.verification.verify_one``: the account re-derived from its entries, as
    ``manage.py verify_ledger`` does."""

    account = serializers.IntegerField(source="account.pk")
    consistent = serializers.BooleanField()
    entries = serializers.IntegerField(help_text="How many ledger entries were checked.")
    balance = MoneyField(help_text="The account's stored balance.")
    problems = serializers.ListField(
        child=serializers.CharField(),
        help_text="Each problem in words (the first broken entry of the hash chain named); "
        "empty when consistent.",
    )
