"""``manage.py verify_ledger`` re-derives every account from its entries and fails,
naming the account, on any difference."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from moneyed import Money

from ledger import services
from ledger.models import Account, Invoice
from ledger.services import Posting

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(make_account, make_invoice, actor):
    """Two accounts with issued, cancelled and paid business."""
    alice = make_account(name="Alice Ltd")
    bob = make_account("JPY", name="Bob KK")
    make_invoice(alice, "75.00", "10.10", issue=True)
    cancelled = make_invoice(alice, "20.00", issue=True)
    services.void_invoice(invoice=cancelled, actor=actor)
    services.post(
        account=alice,
        postings=[Posting(kind="PAYM", amount=Money("50.00", "GBP"), reference="PAYM-A")],
        actor=actor,
    )
    make_invoice(bob, "1200", issue=True)
    services.post(
        account=bob,
        postings=[Posting(kind="CRED", amount=Money("300", "JPY"), reference="CRED-B")],
        actor=actor,
    )
    alice.refresh_from_db()
    bob.refresh_from_db()
    return alice, bob


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("verify_ledger", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args):
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("verify_ledger", *args, stdout=out, stderr=err)
    return str(exc.value), err.getvalue()


def test_consistent_ledger_passes(ledger):
    alice, bob = ledger
    assert alice.balance == Money("-35.10", "GBP") and alice.last_seq == 4
    assert bob.balance == Money("-900", "JPY") and bob.last_seq == 2
    out, err = run()
    assert "verify_ledger: 2 accounts consistent." in out
    assert err == ""


def test_empty_database_passes(db):
    out, _ = run()
    assert "0 accounts consistent" in out


def test_tampered_balance_is_reported_with_account_id_and_name(ledger):
    alice, bob = ledger
    Account.objects.filter(pk=alice.pk).update(balance=Money("999.00", "GBP"))
    message, err = run_failing()
    assert message == "1 of 2 accounts do not match their ledger."
    assert f"account {alice.pk} (Alice Ltd)" in err
    assert "balance is 999" in err and "entries sum to -35.10" in err
    assert "Bob KK" not in err


def test_tampered_last_seq_is_reported(ledger):
    alice, bob = ledger
    Account.objects.filter(pk=bob.pk).update(last_seq=7)
    message, err = run_failing()
    assert "1 of 2 accounts" in message
    assert f"account {bob.pk} (Bob KK): last_seq is 7 but 2 entries exist" in err


def test_tampered_invoice_total_is_reported(ledger):
    alice, _ = ledger
    invoice = Invoice.objects.filter(account=alice, status="due").get()
    Invoice.objects.filter(pk=invoice.pk).update(total=Money("1.00", "GBP"))
    _, err = run_failing()
    assert f"account {alice.pk} (Alice Ltd): invoice {invoice.number}" in err
    assert "lines sum to 85.10" in err


def test_both_accounts_reported(ledger):
    alice, bob = ledger
    Account.objects.filter(pk=alice.pk).update(balance=Money("0", "GBP"))
    Account.objects.filter(pk=bob.pk).update(last_seq=1)
    message, err = run_failing()
    assert message == "2 of 2 accounts do not match their ledger."
    assert f"account {alice.pk} (Alice Ltd)" in err and f"account {bob.pk} (Bob KK)" in err


def test_account_option_limits_the_check(ledger):
    alice, bob = ledger
    Account.objects.filter(pk=alice.pk).update(balance=Money("0", "GBP"))
    out, _ = run("--account", str(bob.pk))
    assert "1 accounts consistent" in out
    _, err = run_failing("--account", str(alice.pk))
    assert f"account {alice.pk} (Alice Ltd)" in err
