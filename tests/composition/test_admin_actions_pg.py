"""Every admin write through its URL on PostgreSQL, with no transaction around the test
(DESIGN: pytest-django's wrapping transaction hides a ``select_for_update`` run outside
``transaction.atomic()``; here each request commits for real, ``on_commit`` runs, and a
missing transaction is a ``TransactionManagementError``).

Each test builds its data through the services, POSTs the action as a superuser would
(button offered, form rendered, POST, redirect with a success message) and checks the
effect in the database: statuses, entries, balances, wallet figures.
"""

import re
from decimal import Decimal

import pytest
from django.contrib import messages
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from billing_site.api.models import ApiKey, hash_key
from billing_site.documents.models import ReceiptEmail
from ledger import services as ledger
from ledger.models import Account, Invoice, LedgerEntry
from payments import services as pay
from payments.models import Payment, PaymentLink, SandboxEvent
from tests.payments.conftest import balance, entries_after, fresh, last_seq, waiting_payment
from wallets import services as wallets
from wallets.models import Wallet

from .admin_pages import buttons, run_action, run_bulk, succeeded, superuser_client

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D = Decimal
IBAN_CONFIRMED = "DE89 3704 0044 0532 0130 00"


@pytest.fixture(autouse=True)
def verified_ledger(transactional_db):
    """After every test: every balance and running balance matches its entries."""
    yield
    call_command("verify_ledger", verbosity=0)


@pytest.fixture
def admin():
    return superuser_client()


@pytest.fixture
def issue(actor):
    def make(account, *amounts):
        draft = ledger.create_invoice(
            account=account,
            actor=actor,
            lines=[ledger.LineSpec(f"Line {i + 1}", "1", a) for i, a in enumerate(amounts)],
        )
        return pay.issue_invoice(invoice=draft, actor=actor)

    return make


@pytest.fixture
def erp_account(make_account):
    return make_account(erp_managed=True)


@pytest.fixture
def wallet(account, actor):
    made = wallets.create_wallet(account=account, name="Prepaid", actor=actor)
    wallets.top_up(wallet=made, amount="50.00", actor=actor, grant=True)
    return fresh(made)


def figures(wallet) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    w = fresh(wallet)
    return (w.total.amount, w.consumed.amount, w.held.amount, w.available.amount)


# --- invoice page: object actions -----------------------------------------------------


def test_invoice_mark_paid(admin, account, issue):
    invoice = issue(account, "75.00")
    seq = last_seq(account)
    done = run_action(admin, "ledger_invoice", invoice, "mark_paid", {"method": "bank_transfer"})
    assert done.text() == [f"Payment recorded for invoice {invoice.number}."]
    assert fresh(invoice).status == "paid"
    assert entries_after(account, seq) == [
        ("PAYM", 0, D("75.00"), invoice.reference, "bank_transfer")
    ]
    assert balance(account) == 0


def test_invoice_pay_from_balance_runs_in_a_transaction_on_postgresql(admin, account, issue, actor):
    """Failed before with ``TransactionManagementError: select_for_update cannot be used
    outside of a transaction``: the action ran the service without a transaction."""
    invoice = issue(account, "75.00")
    pay.record_payment(account=account, amount="100.00", method="cash", actor=actor)
    seq = last_seq(account)
    done = run_action(admin, "ledger_invoice", invoice, "pay_from_balance")
    assert done.text() == [f"Invoice {invoice.number} paid from the account balance."]
    assert fresh(invoice).status == "paid"
    kinds = [(kind, debit, credit) for kind, debit, credit, *_ in entries_after(account, seq)]
    assert kinds == [("PAYM", 0, D("75.00")), ("CRED", 0, D("-75.00"))]
    assert balance(account) == D("25.00")
    paid = Payment.objects.get(invoice=invoice, status="paid_from_balance")
    assert (paid.method, paid.amount.amount) == ("account_balance", D("75.00"))


def test_invoice_apply_wallet(admin, account, issue, wallet):
    invoice = issue(account, "75.00")
    seq = last_seq(account)
    data = {"wallet": wallet.pk, "amount": "30.00"}
    done = run_action(admin, "ledger_invoice", invoice, "apply_wallet", data)
    assert done.text() == [f"£30.00 prepaid from the wallet on invoice {invoice.number}."]
    invoice = fresh(invoice)
    assert (invoice.status, invoice.amount_credited.amount) == ("partially_paid", D("30.00"))
    assert [(k, c) for k, _d, c, *_ in entries_after(account, seq)] == [("CRMO", D("30.00"))]
    assert figures(wallet) == (D("50.00"), D("30.00"), 0, D("20.00"))
    assert waiting_payment(invoice).amount.amount == D("45.00")
    assert balance(account) == D("-45.00")


def test_invoice_force_direct_debit_then_the_bank_confirms(admin, account, issue):
    invoice = issue(account, "75.00")
    payment = waiting_payment(invoice)
    data = {"iban": IBAN_CONFIRMED}
    done = run_action(admin, "ledger_invoice", invoice, "force_direct_debit", data)
    assert done.text() == [
        f"Direct debit started for invoice {invoice.number}: processing until the bank confirms."
    ]
    payment = fresh(payment)
    assert (payment.status, payment.method, payment.gateway) == (
        "processing",
        "direct_debit",
        "sandbox",
    )
    assert SandboxEvent.objects.filter(delivered_at__isnull=True).count() == 2
    call_command("deliver_sandbox_events", "--all")
    assert fresh(payment).status == "completed"
    assert fresh(invoice).status == "paid" and balance(account) == 0


def test_invoice_payment_link(admin, account, issue):
    invoice = issue(account, "75.00")
    done = run_action(admin, "ledger_invoice", invoice, "payment_link", {"days": "7"})
    [text] = done.text()
    assert text.startswith(f"Payment link for invoice {invoice.number}, valid until ")
    assert ": http://testserver/pay/" in text and text.endswith(
        "not emailed: copy it to the member."
    )
    link = PaymentLink.objects.get(invoice=invoice)
    assert (link.account_id, link.paid_at) == (account.pk, None)
    assert 6 <= (link.expires_at - link.created_at).days <= 7


def test_invoice_refund(admin, account, issue, actor):
    invoice = issue(account, "75.00")
    pay.mark_invoice_paid(invoice=invoice, method="bank_transfer", actor=actor)
    seq = last_seq(account)
    data = {"amount": "25.00", "reason": "goodwill"}
    done = run_action(admin, "ledger_invoice", invoice, "refund", data)
    assert done.text() == [f"Refund recorded for invoice {invoice.number}."]
    invoice = fresh(invoice)
    assert (invoice.amount_paid.amount, invoice.amount_refunded.amount) == (D("50.00"), D("25.00"))
    assert [(k, d, c) for k, d, c, *_ in entries_after(account, seq)] == [
        ("INVC", D("-25.00"), 0),
        ("PAYM", 0, D("-25.00")),
    ]
    refund = Payment.objects.get(refund_of__invoice=invoice)
    assert (refund.direction, refund.status, refund.amount.amount) == (
        "outgoing",
        "completed",
        D("25.00"),
    )
    assert balance(account) == 0


# --- invoice list: bulk actions -------------------------------------------------------


def test_issue_selected_invoices(admin, account, make_invoice):
    drafts = [make_invoice(account, "40.00"), make_invoice(account, "60.00")]
    url = reverse("admin:ledger_invoice_changelist")
    ids = [d.pk for d in drafts]
    confirm = admin.post(url, {"action": "issue_selected", "_selected_action": ids})
    assert confirm.status_code == 200 and b"Issue" in confirm.content  # the confirmation page
    assert {fresh(d).status for d in drafts} == {"draft"}
    done = run_bulk(admin, "ledger_invoice", "issue_selected", drafts, post="yes")
    issued = [fresh(d) for d in drafts]
    assert {i.status for i in issued} == {"due"}
    assert all(i.number for i in issued) and len({i.number for i in issued}) == 2
    assert len(done.text()) == 2 and all("issued to" in m for m in done.text())
    debits = LedgerEntry.objects.filter(account=account, kind="INVC").values_list("debit")
    assert sorted(d for (d,) in debits) == [D("40.00"), D("60.00")]
    assert {waiting_payment(i).status for i in issued} == {"waiting_for_payment"}
    assert balance(account) == D("-100.00")


def test_cancel_selected_invoices(admin, account, issue, make_invoice):
    issued = issue(account, "40.00")
    draft = make_invoice(account, "10.00")
    seq = last_seq(account)
    done = run_bulk(
        admin, "ledger_invoice", "cancel_selected", [issued, draft], post="yes", reason="duplicate"
    )
    assert len(done.text()) == 2
    assert any("£40.00 credited back" in m for m in done.text())
    assert {fresh(issued).status, fresh(draft).status} == {"cancelled"}
    assert fresh(issued).cancel_reason == "duplicate"
    assert [(k, d) for k, d, *_ in entries_after(account, seq)] == [("INVC", D("-40.00"))]
    assert waiting_payment(issued) is None
    assert balance(account) == 0


def test_invoice_add_form_with_a_line(admin, account):
    url = reverse("admin:ledger_invoice_add")
    response = admin.post(
        url,
        {
            "account": account.pk,
            "series": "INV",
            "description": "Studio hire",
            "due_date": "",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "1000",
            "lines-0-description": "Hire",
            "lines-0-quantity": "2",
            "lines-0-unit_price": "12.50",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    invoice = Invoice.objects.get(account=account)
    assert (invoice.status, invoice.total.amount, invoice.description) == (
        "draft",
        D("25.00"),
        "Studio hire",
    )
    assert list(invoice.lines.values_list("description", flat=True)) == ["Hire"]


# --- payment page: object actions -----------------------------------------------------


def test_payment_approve_by_erp(admin, erp_account, issue):
    invoice = issue(erp_account, "75.00")
    payment = waiting_payment(invoice)
    assert payment.status == "pending_billing"
    done = run_action(admin, "payments_payment", payment, "approve", {"reason": "ERP PO-77"})
    assert done.text() == [f"Payment {payment.number} approved: now waiting for payment."]
    payment = fresh(payment)
    assert payment.status == "waiting_for_payment"
    assert payment.transitions.filter(name="approve", reason="ERP PO-77").exists()


def test_payment_receipt_created_sent_by_email_then_paid(admin, account, issue, mailoutbox):
    invoice = issue(account, "75.00")
    payment = waiting_payment(invoice)
    data = {"method": "bank_transfer", "note": "paying by transfer"}
    done = run_action(admin, "payments_payment", payment, "create_receipt", data)
    payment = fresh(payment)
    assert (payment.status, payment.method) == ("receipt_creating", "bank_transfer")
    created = f"Receipt {payment.receipt_number} created for payment {payment.number}."
    assert done.text() == [created]
    assert mailoutbox == []

    done = run_action(admin, "payments_payment", payment, "send_receipt")
    payment = fresh(payment)
    assert (payment.status, payment.receipt_sent_to) == ("receipt_sent", account.email)
    assert done.text() == [f"Receipt {payment.receipt_number} sent to {account.email}."]
    # on_commit ran for real: the email left after the transition committed.
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == [account.email] and payment.receipt_number in email.subject
    [(filename, content, mimetype)] = email.attachments
    assert (filename, mimetype) == (f"{payment.receipt_number}.pdf", "application/pdf")
    assert content.startswith(b"%PDF")
    receipt = admin.get(reverse("admin:payments_payment_receipt", args=[payment.pk]))
    assert receipt.status_code == 200 and receipt["Content-Type"] == "application/pdf"

    seq = last_seq(account)
    run_action(admin, "payments_payment", payment, "mark_paid", {"method": "bank_transfer"})
    assert fresh(payment).status == "completed" and fresh(invoice).status == "paid"
    assert [(k, c) for k, _d, c, *_ in entries_after(account, seq)] == [("PAYM", D("75.00"))]


def test_payment_retry_receipt_email_after_the_mail_server_was_down(
    admin, account, issue, actor, settings, mailoutbox
):
    invoice = issue(account, "75.00")
    payment = pay.create_receipt(payment=waiting_payment(invoice), method="cash", actor=actor)
    settings.EMAIL_BACKEND = "tests.composition.admin_pages.RefusingEmailBackend"
    run_action(admin, "payments_payment", payment, "send_receipt")
    delivery = ReceiptEmail.objects.get(payment=payment)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "mail server down" in delivery.last_error
    assert fresh(payment).status == "receipt_sent"  # the transition stands

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    done = run_action(admin, "payments_payment", payment, "retry_receipt_email")
    payment = fresh(payment)
    assert done.text() == [
        f"Receipt {payment.receipt_number}: sending again to {account.email}; see Receipt emails."
    ]
    delivery = fresh(delivery)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")
    [email] = mailoutbox
    assert email.to == [account.email] and email.attachments[0][2] == "application/pdf"
    assert "retry_receipt_email" not in buttons(admin, "payments_payment", payment)


def test_payment_mark_paid_in_part(admin, account, issue):
    invoice = issue(account, "75.00")
    payment = waiting_payment(invoice)
    seq = last_seq(account)
    data = {"method": "cash", "amount": "30.00", "reference": "till 4"}
    done = run_action(admin, "payments_payment", payment, "mark_paid", data)
    assert done.text() == [f"Payment {payment.number} marked as paid."]
    assert fresh(payment).status == "completed"
    assert fresh(invoice).status == "partially_paid"
    assert [(k, c, m) for k, _d, c, _r, m in entries_after(account, seq)] == [
        ("PAYM", D("30.00"), "cash")
    ]
    assert waiting_payment(invoice).amount.amount == D("45.00")
    assert balance(account) == D("-45.00")


def test_payment_pay_from_balance(admin, account, issue, actor):
    invoice = issue(account, "75.00")
    payment = waiting_payment(invoice)
    pay.record_payment(account=account, amount="80.00", method="cash", actor=actor)
    seq = last_seq(account)
    done = run_action(admin, "payments_payment", payment, "pay_from_balance")
    assert done.text() == [f"Payment {payment.number} paid from the account balance."]
    payment = fresh(payment)
    assert (payment.status, payment.method) == ("paid_from_balance", "account_balance")
    assert fresh(invoice).status == "paid"
    assert [(k, c) for k, _d, c, *_ in entries_after(account, seq)] == [
        ("PAYM", D("75.00")),
        ("CRED", D("-75.00")),
    ]
    assert balance(account) == D("5.00")


def test_payment_cancel(admin, account, issue):
    invoice = issue(account, "75.00")
    payment = waiting_payment(invoice)
    seq = last_seq(account)
    done = run_action(admin, "payments_payment", payment, "cancel", {"reason": "paid elsewhere"})
    assert done.text() == [f"Payment {payment.number} cancelled."]
    assert fresh(payment).status == "cancelled"
    assert entries_after(account, seq) == []  # the invoice is still owed
    assert fresh(invoice).status == "due"


@pytest.fixture
def paid(account, issue, actor):
    """A 75.00 invoice paid in full by bank transfer: (invoice, its completed payment)."""
    invoice = issue(account, "75.00")
    return invoice, pay.mark_invoice_paid(invoice=invoice, method="bank_transfer", actor=actor)


def test_payment_refund(admin, account, paid):
    invoice, payment = paid
    seq = last_seq(account)
    data = {"amount": "20.00", "reason": "one session cancelled"}
    done = run_action(admin, "payments_payment", payment, "refund", data)
    refund = Payment.objects.get(refund_of=payment)
    assert done.text() == [f"Refund {refund.number} recorded."]
    assert done.url == reverse("admin:payments_payment_change", args=[refund.pk])
    assert (refund.direction, refund.status, refund.amount.amount) == (
        "outgoing",
        "completed",
        D("20.00"),
    )
    assert fresh(payment).amount_reversed.amount == D("20.00")
    assert [(k, d, c) for k, d, c, *_ in entries_after(account, seq)] == [
        ("INVC", D("-20.00"), 0),
        ("PAYM", 0, D("-20.00")),
    ]
    assert fresh(invoice).amount_refunded.amount == D("20.00")
    assert balance(account) == 0


def test_payment_dispute(admin, account, paid):
    invoice, payment = paid
    seq = last_seq(account)
    done = run_action(admin, "payments_payment", payment, "dispute", {"reason": "chargeback"})
    dispute = Payment.objects.get(dispute_of=payment)
    assert done.text() == [f"Dispute {dispute.number} recorded; the invoice is owed again."]
    assert (dispute.direction, dispute.amount.amount) == ("outgoing", D("75.00"))
    assert [(k, c) for k, _d, c, *_ in entries_after(account, seq)] == [("PAYM", D("-75.00"))]
    assert fresh(invoice).status == "disputed"
    assert waiting_payment(invoice).amount.amount == D("75.00")
    assert balance(account) == D("-75.00")


def test_payment_assign_to_an_invoice(admin, account, issue, actor):
    credit = pay.record_payment(account=account, amount="50.00", method="cash", actor=actor)
    invoice = issue(account, "75.00")  # issued after the credit: credit applied at issue
    invoice = fresh(invoice)
    assert invoice.amount_paid.amount == D("50.00")
    other = pay.record_payment(account=account, amount="30.00", method="cash", actor=actor)
    seq = last_seq(account)
    data = {f"pick-{invoice.pk}": "on", f"amount-{invoice.pk}": "25.00"}
    done = run_action(admin, "payments_payment", other, "assign", data)
    assert done.text() == [f"Payment {other.number}: assigned £25.00 to {invoice.number}."]
    assert fresh(invoice).status == "paid"
    assert fresh(other).amount_allocated.amount == D("25.00")
    assert waiting_payment(invoice) is None
    assert entries_after(account, seq) == []  # money already posted: only allocated
    assert balance(account) == D("5.00")
    assert fresh(credit).status == "completed"


def test_record_payment_page(admin, account):
    url = reverse("admin:payments_payment_record") + f"?account={account.pk}"
    assert admin.get(url).status_code == 200
    data = {"amount": "40.00", "method": "cash", "reference": "front desk", "note": ""}
    done = succeeded(admin, admin.post(url, data))
    payment = Payment.objects.get(account=account)
    assert done.url == reverse("admin:ledger_account_payments", args=[account.pk])
    [text] = done.text()
    assert text.startswith(f"Payment {payment.number} recorded: £40.00 by cash, received ")
    assert (payment.status, payment.type, payment.method) == ("completed", "top_up", "cash")
    [(kind, debit, credit, _ref, method)] = entries_after(account, 0)
    assert (kind, debit, credit, method) == ("PAYM", 0, D("40.00"), "cash")
    assert balance(account) == D("40.00")


def test_sandbox_events_delivered_from_the_admin_in_debug(admin, account, issue, actor, settings):
    invoice = issue(account, "75.00")
    payment = waiting_payment(invoice)
    pay.start_card_payment(payment=payment, card_number="4242424242424242", actor=actor)
    settings.DEBUG = True
    url = reverse("admin:payments_sandboxevent_deliver")
    done = succeeded(admin, admin.post(url))
    assert done.text() == ["2 sandbox event(s) delivered."]
    assert not SandboxEvent.objects.filter(delivered_at__isnull=True).exists()
    assert fresh(payment).status == "completed" and fresh(invoice).status == "paid"
    assert balance(account) == 0


# --- wallet page: object actions ------------------------------------------------------


def test_wallet_top_up_is_credited_when_its_payment_is_marked_paid(admin, account, wallet):
    done = run_action(admin, "wallets_wallet", wallet, "top_up", {"amount": "60.00"})
    assert done.text() == [
        "Top-up requested for wallet 'Prepaid': it is credited when the payment completes."
    ]
    top_up = Payment.objects.get(wallet=wallet)
    assert (top_up.type, top_up.status, top_up.amount.amount) == (
        "top_up",
        "waiting_for_payment",
        D("60.00"),
    )
    assert figures(wallet) == (D("50.00"), 0, 0, D("50.00"))  # not yet
    run_action(admin, "payments_payment", top_up, "mark_paid", {"method": "bank_transfer"})
    assert fresh(top_up).status == "completed"
    assert figures(wallet) == (D("110.00"), 0, 0, D("110.00"))


def test_wallet_grant(admin, account, wallet):
    seq = last_seq(account)
    data = {"amount": "25.00", "reference": "welcome"}
    done = run_action(admin, "wallets_wallet", wallet, "grant", data)
    assert done.text() == ["Granted: wallet 'Prepaid' updated."]
    assert figures(wallet) == (D("75.00"), 0, 0, D("75.00"))
    tx = fresh(wallet).transactions.order_by("-seq").first()
    assert (tx.kind, tx.amount.amount, tx.reference) == ("grant", D("25.00"), "welcome")
    assert entries_after(account, seq) == []  # a grant is wallet money, not a payment


def test_wallet_transfer_to_account_credit(admin, account, wallet):
    seq = last_seq(account)
    done = run_action(admin, "wallets_wallet", wallet, "transfer", {"amount": "10.00"})
    assert done.text() == ["Moved to account credit from wallet 'Prepaid'."]
    assert figures(wallet) == (D("50.00"), D("10.00"), 0, D("40.00"))
    assert [(k, c) for k, _d, c, *_ in entries_after(account, seq)] == [("CRED", D("10.00"))]
    assert balance(account) == D("10.00")


def test_wallet_close(admin, account, actor):
    empty = wallets.create_wallet(account=account, name="Spare", actor=actor)
    done = run_action(admin, "wallets_wallet", empty, "close")
    assert done.text() == ["Wallet 'Spare' closed."]
    empty = fresh(empty)
    assert (empty.status, empty.closed_at is not None) == ("closed", True)


def test_wallet_apply_to_an_invoice(admin, account, issue, wallet):
    invoice = issue(account, "75.00")
    seq = last_seq(account)
    data = {"invoice": invoice.pk, "amount": "20.00"}
    done = run_action(admin, "wallets_wallet", wallet, "apply", data)
    assert done.text() == ["Wallet 'Prepaid' applied."]
    assert figures(wallet) == (D("50.00"), D("20.00"), 0, D("30.00"))
    assert [(k, c) for k, _d, c, *_ in entries_after(account, seq)] == [("CRMO", D("20.00"))]
    assert fresh(invoice).amount_credited.amount == D("20.00")
    assert waiting_payment(invoice).amount.amount == D("55.00")


def test_wallet_add_form(admin, account):
    holds = {"holds-TOTAL_FORMS": "0", "holds-INITIAL_FORMS": "0"}  # the (empty) inline
    data = {"account": account.pk, "name": "Gym", **holds}
    response = admin.post(reverse("admin:wallets_wallet_add"), data)
    done = succeeded(admin, response)
    made = Wallet.objects.get(account=account, name="Gym")
    assert (made.status, made.currency, figures(made)) == ("active", "GBP", (0, 0, 0, 0))
    assert done.text() and "Gym" in done.text()[0]


# --- accounts -------------------------------------------------------------------------


def account_form(**changes) -> dict:
    data = {
        "name": "Northwind Studio",
        "email": "billing@northwind.test",
        "currency": "EUR",
        "external_ref": "CRM-881",
        "group": "",
        "payment_terms_days": "30",
        "is_active": "on",
    }
    return {**data, **changes}


def test_account_add_then_edit_through_the_forms(admin, issue):
    done = succeeded(admin, admin.post(reverse("admin:ledger_account_add"), account_form()))
    account = Account.objects.get(external_ref="CRM-881")
    assert "Northwind Studio" in done.text()[0]
    assert (account.name, account.currency, account.payment_terms_days) == (
        "Northwind Studio",
        "EUR",
        30,
    )
    assert (account.balance.amount, account.balance.currency.code, account.last_seq) == (
        0,
        "EUR",
        0,
    )

    issue(account, "75.00")  # posted: the edit must leave balance and sequence alone
    url = reverse("admin:ledger_account_change", args=[account.pk])
    edit = account_form(name="Northwind Studio GmbH", payment_terms_days="7", erp_managed="on")
    edit.pop("currency")  # read-only once the account has history
    succeeded(admin, admin.post(url, edit))
    account = fresh(account)
    assert (account.name, account.payment_terms_days, account.erp_managed) == (
        "Northwind Studio GmbH",
        7,
        True,
    )
    assert (account.balance.amount, account.last_seq, account.currency) == (D("-75.00"), 1, "EUR")


def test_account_list_has_no_bulk_actions_and_an_empty_account_can_be_deleted(
    admin, make_account, issue
):
    used, empty = make_account(), make_account()
    issue(used, "10.00")
    listing = admin.get(reverse("admin:ledger_account_changelist"))
    assert listing.status_code == 200
    assert listing.context["action_form"] is None  # delete_selected removed, nothing else
    assert admin.get(reverse("admin:ledger_account_delete", args=[used.pk])).status_code == 403
    url = reverse("admin:ledger_account_delete", args=[empty.pk])
    succeeded(admin, admin.post(url, {"post": "yes"}))
    assert not Account.objects.filter(pk=empty.pk).exists()
    assert Account.objects.filter(pk=used.pk).exists()


# --- API keys -------------------------------------------------------------------------


def test_api_key_add_shows_the_key_once_and_it_works(admin):
    data = {"name": "ERP bridge", "scopes": ["read", "erp"]}
    done = succeeded(admin, admin.post(reverse("admin:api_apikey_add"), data))
    [warning] = done.text(messages.WARNING)
    raw = re.search(r"(bf_\S+) — copy it now", warning).group(1)
    key = ApiKey.objects.get(name="ERP bridge")
    assert key.scopes == ["read", "erp"] and key.revoked_at is None
    assert raw.startswith(f"bf_{key.prefix}_") and key.key_hash == hash_key(raw)
    page = admin.get(reverse("admin:api_apikey_change", args=[key.pk]))
    assert page.status_code == 200 and raw not in page.content.decode()  # shown once
    listing = Client().get("/api/v1/accounts/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert listing.status_code == 200, listing.content


def test_revoke_keys_bulk_action(admin):
    first, raw = ApiKey.create_with_key(name="meter", scopes=["read"])
    second, _ = ApiKey.create_with_key(name="crm", scopes=["read", "write"])
    kept, kept_raw = ApiKey.create_with_key(name="gateway", scopes=["read"])
    api = Client()
    assert api.get("/api/v1/accounts/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    done = run_bulk(admin, "api_apikey", "revoke_keys", [first, second])
    assert done.text() == ["2 key(s) revoked."]
    assert fresh(first).revoked_at is not None and fresh(second).revoked_at is not None
    assert fresh(kept).revoked_at is None
    refused = api.get("/api/v1/accounts/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert refused.status_code == 401 and "revoked" in refused.content.decode()
    assert api.get("/api/v1/accounts/", HTTP_AUTHORIZATION=f"Bearer {kept_raw}").status_code == 200
