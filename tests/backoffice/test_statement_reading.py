"""The payments tab as the Nexudus source shows it (issue 11): a kind column
(INVC/PAYM/CRED/CRMO); a payment recorded against an invoice reads ``PAYM`` followed by
the invoice number (stored ``INVC-<number>``, as SPEC §3 and docs/RULES.md say:
"referenced by the invoice it paid" — display only); a refund's ``INVC −x`` / ``PAYM −x``
and credit used at issue (``PAYM`` / ``CRED``) read as one event."""

import re

import pytest
from django.urls import reverse

from ledger.models import LedgerEntry
from payments import services as pay

from .conftest import words

pytestmark = pytest.mark.django_db


def rows(admin, account) -> list[str]:
    page = admin.get(reverse("admin:ledger_account_payments", args=[account.pk]))
    assert page.status_code == 200
    body = page.content.decode().split('id="statement"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr class=\"kind-[^\"]*\">.*?</tr>", body, re.S)


def cells(row: str) -> list[str]:
    return [words(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]


def test_kind_column_and_paym_with_the_invoice_number(admin, account, issue, actor):
    invoice = issue(account, "75.00")
    pay.mark_invoice_paid(invoice=invoice, method="bank_transfer", actor=actor)
    stored = list(LedgerEntry.objects.filter(account=account).order_by("-seq"))
    assert [e.reference for e in stored] == [invoice.reference, invoice.reference]  # unchanged
    page = admin.get(reverse("admin:ledger_account_payments", args=[account.pk]))
    assert '<th scope="col">Kind</th>' in page.content.decode()
    paym, invc = (cells(r) for r in rows(admin, account))
    assert paym[1:3] == ["PAYM", f"PAYM-{invoice.number}"]  # was INVC-INV-…
    assert invc[1:3] == ["INVC", f"INVC-{invoice.number}"]


def test_a_refund_pair_reads_as_one_event(admin, account, issue, actor):
    invoice = issue(account, "75.00")
    pay.mark_invoice_paid(invoice=invoice, method="bank_transfer", actor=actor)
    [refund] = pay.refund_invoice(invoice=invoice, amount="20.00", actor=actor)
    first, second, *_rest = rows(admin, account)
    assert "billfold-event-start" in first and "billfold-event-part" in second
    assert 'rowspan="2"' in first  # one date for the event
    assert "Refund: the invoice is reduced and the money goes back" in words(first)
    kinds = {cells(first)[1], cells(second)[0]}  # the second row has no date cell
    assert kinds == {"INVC", "PAYM"}
    assert f"PAYM-{refund.number}" in words(first + second)


def test_credit_used_at_issue_reads_as_one_event(admin, account, issue, actor):
    pay.record_payment(account=account, amount="50.00", method="cash", actor=actor)
    issue(account, "75.00")
    newest = rows(admin, account)
    # newest first: CRED -50 and PAYM +50 (one event), then INVC 75, then the PAYM credit.
    assert "billfold-event-start" in newest[0] and "billfold-event-part" in newest[1]
    assert "Paid from the account's credit" in words(newest[0])
    assert cells(newest[0])[1] == "CRED" and cells(newest[1])[0] == "PAYM"
