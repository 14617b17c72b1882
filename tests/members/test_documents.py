"""Member pages other than the statement: login and password reset, home, invoices,
wallets, receipts, and their PDFs (issue 6)."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from .conftest import PASSWORD
from .pages import gbp, pdf_text, position_figures, squash, table_rows

pytestmark = pytest.mark.django_db


def test_login_form_then_home_lists_accounts_with_balances(client, history, other_account):
    page = client.get("/login/")
    html = page.content.decode()
    assert '<label for="id_username">' in html and '<label for="id_password">' in html
    response = client.post("/login/", {"username": "alice", "password": PASSWORD}, follow=True)
    assert response.redirect_chain == [("/", 302)]
    shown = position_figures(response.content, history.account.pk)
    assert shown["balance"] == f"{gbp('-50.00')} owed"
    assert shown["due"] == f"{gbp('30.00')} 1 invoice"
    assert shown["overdue"] == f"{gbp('30.00')} 1 overdue"
    assert "Known History Ltd" in response.content.decode()
    assert "Other Member Ltd" not in response.content.decode()


def test_wrong_password_says_so(client, history):
    response = client.post("/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_password_reset_by_email(client, member):
    response = client.post("/password-reset/", {"email": member.email}, follow=True)
    assert response.redirect_chain[-1][0] == "/password-reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Reset your Billfold password"
    link = re.search(r"http://testserver(/password-reset/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "A-new-pass-4567", "new_password2": "A-new-pass-4567"},
        follow=True,
    )
    assert done.redirect_chain[-1][0] == "/password-reset/done/"
    assert client.login(username=member.username, password="A-new-pass-4567")


def test_balance_words(member_client, member, make_user):
    from ledger import services as ledger

    actor = ledger.system_actor("tests")
    for name in ("Credit Co", "Zero Co"):
        ledger.create_account(
            name=name, email="x@x.test", currency="EUR", actor=actor, members=[member]
        )
    from ledger.models import Account
    from payments import services as pay

    pay.record_payment(
        account=Account.objects.get(name="Credit Co"), amount="12.50", method="cash", actor=actor
    )
    html = member_client.get("/").content
    by_name = {a.name: a.pk for a in Account.objects.all()}
    assert position_figures(html, by_name["Credit Co"])["balance"] == "€12.50 in credit"
    assert position_figures(html, by_name["Credit Co"])["free-credit"] == "€12.50"
    assert position_figures(html, by_name["Zero Co"])["balance"] == "€0.00 settled"


def test_invoice_list_shows_status_due_paid_prepaid(member_client, history):
    """The history's dates are in 2026's first quarter: the part-paid invoice is overdue
    (but its receipt asks for a bank transfer: no Pay now), the paid one is not."""
    response = member_client.get(reverse("member-invoices", args=[history.account.pk]))
    rows = table_rows(response.content, "invoices")
    part, paid = history.invoice_part, history.invoice_paid
    assert rows == [
        [
            part.number,
            "2 Mar 2026",
            "16 Mar 2026",
            "Partially paid Overdue",
            gbp("80"),
            gbp("20"),
            gbp("30"),
            gbp("30"),
            "Receipt sent: pay by bank transfer",  # no Pay now
        ],
        [
            paid.number,
            "3 Feb 2026",
            "3 Feb 2026",
            "Paid",
            gbp("150"),
            gbp("150"),
            gbp("0"),
            gbp("0"),
            "",
        ],
    ]


def test_invoice_detail_lines_payments_and_credit_memos(member_client, history):
    invoice = history.invoice_part
    url = reverse("member-invoice", args=[history.account.pk, invoice.pk])
    response = member_client.get(url)
    html = response.content.decode()
    lines = table_rows(html, "invoice-lines")
    assert lines[:2] == [
        ["Hot desk", "1", gbp("50"), gbp("50"), gbp("30")],
        ["Meeting room", "2", gbp("15"), gbp("30"), gbp("0")],
    ]
    assert lines[2] == ["Total", gbp("80"), gbp("30")]
    payments = table_rows(html, "invoice-payments")
    assert [(p[2], p[3]) for p in payments] == [("Bank transfer", gbp("20"))]
    memos = table_rows(html, "invoice-memos")
    assert [(m[2], m[3], m[4]) for m in memos] == [
        ("Prepayment (wallet): Projects", "Hot desk", gbp("30"))
    ]
    assert 'id="invoice-due"><strong>' + gbp("30") in html


def test_invoice_pdf(member_client, history):
    invoice = history.invoice_part
    url = reverse("member-invoice-pdf", args=[history.account.pk, invoice.pk])
    response = member_client.get(url)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="invoice-{invoice.number}.pdf"'
    text = squash(pdf_text(response.content))
    for piece in (
        f"Invoice{invoice.number}",
        f"Hotdesk1{gbp('50')}{gbp('50')}{gbp('30')}",
        f"Due{gbp('30')}",
        "Prepayment(wallet):Projects",
        "Page1of1",
    ):
        assert piece in text, piece


def test_wallets_and_movements(member_client, history):
    account = history.account
    rows = table_rows(
        member_client.get(reverse("member-wallets", args=[account.pk])).content, "wallets"
    )
    assert rows == [["Projects", "Active", gbp("50"), gbp("35"), gbp("0"), gbp("15")]]
    html = member_client.get(
        reverse("member-wallet", args=[account.pk, history.wallet.pk])
    ).content.decode()
    moves = table_rows(html, "wallet-transactions")
    assert [(m[1].split(" ")[0], m[3], m[7]) for m in moves] == [
        ("Drawdown", gbp("5"), gbp("15")),
        ("Drawdown", gbp("30"), gbp("20")),
        ("Grant", gbp("50"), gbp("50")),
    ]


def test_wallet_movements_are_keyset_paged(member_client, history):
    from ledger import services as ledger
    from wallets import services as wallets

    actor = ledger.system_actor("tests")
    for i in range(55):
        wallets.usage_drawdown(
            wallet=history.wallet, amount="0.10", reference=f"m-{i}", actor=actor
        )
    url = reverse("member-wallet", args=[history.account.pk, history.wallet.pk])
    first = member_client.get(url).content.decode()
    assert len(table_rows(first, "wallet-transactions")) == 50
    assert "?before=9" in first  # seq 58 .. 9 on the first page
    older = member_client.get(url, {"before": 9}).content.decode()
    assert len(table_rows(older, "wallet-transactions")) == 8
    assert "?after=8" in older
    bad = member_client.get(url, {"before": "x"}).content.decode()
    assert "The page link is not valid" in bad


def test_receipts_list_and_pdf(member_client, history):
    receipt = history.receipt
    html = member_client.get(reverse("member-receipts", args=[history.account.pk])).content
    rows = table_rows(html, "receipts")
    assert [(r[0], r[2], r[4], r[5]) for r in rows] == [
        (receipt.receipt_number, "Bank transfer", gbp("30"), "Awaiting your payment")
    ]
    response = member_client.get(
        reverse("member-receipt-pdf", args=[history.account.pk, receipt.pk])
    )
    assert response["Content-Type"] == "application/pdf"
    assert f"Receipt{receipt.receipt_number}" in squash(pdf_text(response.content))


def test_a_receipt_not_sent_is_not_downloadable(member_client, history):
    from payments.models import Payment

    paid = Payment.objects.filter(invoice=history.invoice_paid).first()
    assert paid.receipt_sent_at is None
    url = reverse("member-receipt-pdf", args=[history.account.pk, paid.pk])
    assert member_client.get(url).status_code == 404
