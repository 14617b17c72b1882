import pytest

from ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def test_issue_posts_invc_debit(account, make_invoice):
    invoice = make_invoice(account, "75.00", issue=True)
    entry = LedgerEntry.objects.get(account=account)
    assert entry.reference == f"INVC-{invoice.number}"
    assert entry.debit.amount == 75
    account.refresh_from_db()
    assert account.balance.amount == -75
