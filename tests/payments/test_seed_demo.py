import pytest
from django.core.management import call_command

from payments.models import Payment, PaymentStatus
from wallets.models import Wallet

pytestmark = pytest.mark.django_db


def test_demo_data_has_every_payment_status_and_a_consistent_ledger(mailoutbox):
    call_command("seed_demo")
    statuses = set(Payment.objects.values_list("status", flat=True))
    assert statuses == set(PaymentStatus.values)
    assert Payment.objects.filter(refund_of__isnull=False).exists()
    assert Payment.objects.filter(dispute_of__isnull=False).exists()
    assert Payment.objects.filter(receipt_sent_at__isnull=False).exists()
    assert Wallet.objects.filter(held__gt=0).exists()
    call_command("verify_ledger")
    call_command("seed_demo")  # idempotent: a second run changes nothing
    assert set(Payment.objects.values_list("status", flat=True)) == statuses
