"""Credit note PDFs (issue 12 item 4): rendered by the one renderer from the figures
frozen at issue, downloadable by staff (the credit note admin) and by the member (their
invoice page), the same bytes for both; another member's is a 404."""

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from billing_site.documents.credit_notes import render_credit_note_pdf
from ledger import services as ledger
from ledger.models import CreditNote
from ledger.services import LineSpec
from payments import services as pay

pytestmark = pytest.mark.django_db


def text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "".join("".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture(autouse=True)
def verified_ledger():
    yield
    call_command("verify_ledger", verbosity=0)


@pytest.fixture
def member(django_user_model):
    return django_user_model.objects.create_user(username="ada", password="x")


@pytest.fixture
def note(make_account, member, actor):
    """A part refund of a paid £120.00 invoice of the member's account."""
    account = make_account(name="Ada Lovelace Ltd")
    account.members.add(member)
    draft = ledger.create_invoice(
        account=account, actor=actor, lines=[LineSpec("Hot desk", "3", "40.00")]
    )
    invoice = pay.issue_invoice(invoice=draft, actor=actor)
    pay.mark_invoice_paid(invoice=invoice.pk, method="cash", actor=actor)
    pay.refund_invoice(invoice=invoice.pk, amount="25.00", actor=actor, reason="one day closed")
    return CreditNote.objects.get()


def member_url(note):
    return reverse("member-credit-note-pdf", args=[note.account_id, note.pk])


def staff_url(note):
    return reverse("admin:ledger_creditnote_pdf", args=[note.pk])


def test_the_pdf_carries_the_note_the_invoice_and_the_lines(note):
    words = text(render_credit_note_pdf(note))
    invoice = note.invoice.number
    assert f"Creditnote{note.number}" in words
    assert f"Refundofinvoice{invoice}" in words and "AdaLovelaceLtd" in words
    assert f"Refundofinvoice{invoice}(part)1£25.00£25.00" in words
    assert "Totalcredited£25.00" in words and "onedayclosed" in words


def test_member_and_staff_download_the_same_bytes(note, client, member, admin_client):
    client.force_login(member)
    mine = client.get(member_url(note))
    staff = admin_client.get(staff_url(note))
    assert mine.status_code == staff.status_code == 200
    assert mine["Content-Type"] == "application/pdf"
    assert mine.content[:4] == b"%PDF" and mine.content == staff.content


def test_the_pdf_does_not_change_when_the_account_does(note):
    before = render_credit_note_pdf(note)
    ledger.update_account(
        account=note.account_id, actor=ledger.system_actor("tests"), name="Renamed Ltd"
    )
    assert render_credit_note_pdf(CreditNote.objects.get(pk=note.pk)) == before


def test_another_member_gets_404(note, client, django_user_model, make_account):
    mallory = django_user_model.objects.create_user(username="mallory", password="x")
    own = make_account(name="Mallory Ltd")
    own.members.add(mallory)
    client.force_login(mallory)
    assert client.get(member_url(note)).status_code == 404
    # Through her own account id, the note (of another account) is not found either.
    other = reverse("member-credit-note-pdf", args=[own.pk, note.pk])
    assert client.get(other).status_code == 404


def test_the_member_invoice_page_lists_the_note(note, client, member):
    client.force_login(member)
    page = client.get(reverse("member-invoice", args=[note.account_id, note.invoice_id]))
    html = page.content.decode()
    assert 'id="invoice-credit-notes"' in html and note.number in html
    assert member_url(note) in html


def test_staff_need_the_invoice_view_permission(note, client, django_user_model):
    clerk = django_user_model.objects.create_user(username="clerk", password="x", is_staff=True)
    client.force_login(clerk)
    assert client.get(staff_url(note)).status_code == 404
    clerk.user_permissions.add(Permission.objects.get(codename="view_invoice"))
    clerk = django_user_model.objects.get(pk=clerk.pk)
    client.force_login(clerk)
    assert client.get(staff_url(note)).status_code == 200
    listing = client.get(reverse("admin:ledger_creditnote_changelist"))
    assert listing.status_code == 200 and note.number in listing.content.decode()


def test_the_refund_payment_page_links_its_credit_note(note, admin_client):
    refund = note.refund_link.refund
    page = admin_client.get(reverse("admin:payments_payment_change", args=[refund.pk]))
    assert staff_url(note) in page.content.decode()
