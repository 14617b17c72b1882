"""Every write endpoint called twice with one Idempotency-Key: one effect, identical
responses; the same key with another body is refused; a refusal keeps nothing."""

import pytest

from billing_site.api.models import IdempotencyRecord
from ledger.models import (
    Account,
    AccountGroup,
    Invoice,
    InvoiceLine,
    LedgerEntry,
)
from payments import services as pay
from payments.models import Payment, PaymentAllocation, PaymentTransition
from wallets.models import CreditMemo, Hold, Wallet, WalletTransaction

from .conftest import money
from .factories import ACTOR, invoice, side, waiting

pytestmark = pytest.mark.django_db

TABLES = (
    Account,
    AccountGroup,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Payment,
    PaymentAllocation,
    PaymentTransition,
    Wallet,
    WalletTransaction,
    Hold,
    CreditMemo,
)


def effects() -> dict:
    """Row counts and every mutable amount/status a write could change."""
    state = {m.__name__: m.objects.count() for m in TABLES}
    state["balances"] = list(Account.objects.order_by("pk").values_list("balance", "name"))
    state["invoices"] = list(
        Invoice.objects.order_by("pk").values_list("status", "total", "amount_paid", "due_date")
    )
    state["lines"] = list(InvoiceLine.objects.order_by("pk").values_list("quantity", "amount"))
    state["wallets"] = list(Wallet.objects.order_by("pk").values_list("total", "consumed", "held"))
    state["payments"] = list(Payment.objects.order_by("pk").values_list("status", "amount"))
    return state


def receipt_payment(s):
    inv = invoice(s.account, "35.00", issue=True)
    return waiting(inv)


def receipt_created(s):
    return pay.create_receipt(payment=receipt_payment(s), actor=ACTOR, method="cash")


def completed_on_invoice(s):
    inv = invoice(s.account, "60.00", issue=True)
    return pay.mark_invoice_paid(invoice=inv, method="cash", actor=ACTOR)


def erp_payment(s):
    s.account.erp_managed = True
    s.account.save(update_fields=["erp_managed"])
    return waiting(invoice(s.account, "45.00", issue=True))


# (name, setup(side) -> (method, path, body))
WRITES = [
    ("account create", lambda s: ("POST", "/api/v1/accounts/",
        {"name": "New", "email": "n@x.test", "currency": "EUR"})),
    ("account put", lambda s: ("PUT", f"/api/v1/accounts/{s.account.pk}/",
        {"name": "Renamed", "email": "r@x.test", "currency": "GBP"})),
    ("account patch", lambda s: ("PATCH", f"/api/v1/accounts/{s.account.pk}/",
        {"payment_terms_days": 30})),
    ("group create", lambda s: ("POST", "/api/v1/account-groups/", {"name": "Resellers"})),
    ("invoice create", lambda s: ("POST", "/api/v1/invoices/", {"account": s.account.pk,
        "lines": [{"description": "X", "quantity": "3", "unit_price": money("2.50")}]})),
    ("invoice patch", lambda s: ("PATCH", f"/api/v1/invoices/{s.draft.pk}/",
        {"due_date": "2031-01-31"})),
    ("invoice open", lambda s: ("POST", f"/api/v1/invoices/{s.draft.pk}/open/", {})),
    ("invoice issue", lambda s: ("POST", f"/api/v1/invoices/{s.draft.pk}/issue/", {})),
    ("invoice cancel", lambda s: ("POST", f"/api/v1/invoices/{s.draft.pk}/cancel/",
        {"reason": "duplicate"})),
    ("invoice mark-paid", lambda s: ("POST", f"/api/v1/invoices/{s.issued.pk}/mark-paid/",
        {"method": "bank_transfer", "amount": money("30.00")})),
    ("invoice refund", lambda s: (lambda p: ("POST", f"/api/v1/invoices/{p.invoice_id}/refund/",
        {"amount": money("10.00")}))(completed_on_invoice(s))),
    ("line add", lambda s: ("POST", f"/api/v1/invoices/{s.ongoing.pk}/lines/",
        {"description": "Extra", "quantity": "1", "unit_price": money("5.00")})),
    ("line change", lambda s: ("PATCH",
        f"/api/v1/invoices/{s.ongoing.pk}/lines/{s.ongoing.lines.first().pk}/",
        {"quantity": "2"})),
    ("payment create", lambda s: ("POST", "/api/v1/payments/",
        {"account": s.account.pk, "amount": money("12.00"), "method": "cheque"})),
    ("payment approve", lambda s: ("POST", f"/api/v1/payments/{erp_payment(s).pk}/approve/",
        {})),
    ("payment create-receipt", lambda s: ("POST",
        f"/api/v1/payments/{receipt_payment(s).pk}/create-receipt/", {"method": "cash"})),
    ("payment send-receipt", lambda s: ("POST",
        f"/api/v1/payments/{receipt_created(s).pk}/send-receipt/", {})),
    ("payment complete", lambda s: ("POST",
        f"/api/v1/payments/{waiting(s.issued).pk}/complete/", {"method": "card"})),
    ("payment cancel", lambda s: ("POST", f"/api/v1/payments/{waiting(s.issued).pk}/cancel/",
        {})),
    ("payment pay-from-balance", lambda s: ("POST",
        f"/api/v1/payments/{waiting(invoice(s.account, '5.00', issue=True)).pk}"
        "/pay-from-balance/", None)),
    ("payment refund", lambda s: ("POST", f"/api/v1/payments/{s.payment.pk}/refund/",
        {"amount": money("5.00")})),
    ("payment dispute", lambda s: ("POST",
        f"/api/v1/payments/{completed_on_invoice(s).pk}/dispute/", {})),
    ("payment assign", lambda s: ("POST", f"/api/v1/payments/{s.payment.pk}/assign/",
        {"allocations": [{"invoice": s.issued.pk, "amount": money("5.00")}]})),
    ("wallet create", lambda s: ("POST", "/api/v1/wallets/",
        {"account": s.account.pk, "name": "Project X"})),
    ("wallet top-up request", lambda s: ("POST", f"/api/v1/wallets/{s.wallet.pk}/top-ups/",
        {"amount": money("100.00")})),
    ("wallet grant", lambda s: ("POST", f"/api/v1/wallets/{s.wallet.pk}/top-ups/",
        {"amount": money("100.00"), "grant": True})),
    ("wallet apply", lambda s: ("POST", f"/api/v1/wallets/{s.wallet.pk}/apply/",
        {"invoice": s.issued.pk, "amount": money("7.00")})),
    ("wallet drawdown", lambda s: ("POST", f"/api/v1/wallets/{s.wallet.pk}/drawdowns/",
        {"amount": money("3.00"), "reference": "meter-1"})),
    ("wallet transfer", lambda s: ("POST", f"/api/v1/wallets/{s.wallet.pk}/transfer-to-credit/",
        {"amount": money("4.00")})),
    ("hold release", lambda s: ("POST",
        f"/api/v1/wallets/{s.wallet.pk}/holds/{s.hold.pk}/release/", None)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "setup"), WRITES, ids=[w[0] for w in WRITES])
def test_retry_with_the_same_key_replays_and_posts_nothing(api, verified, name, setup):
    method, path, body = setup(side("Alpha"))
    first = api.call(method, path, body, idem=f"key-{name}")
    assert 200 <= first.status_code < 300, first.data
    after_first = effects()

    second = api.call(method, path, body, idem=f"key-{name}")

    assert second.status_code == first.status_code
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert effects() == after_first
    assert IdempotencyRecord.objects.filter(key=f"key-{name}").count() == 1


def test_same_key_with_another_body_is_refused(api, verified):
    s = side("Alpha")
    path = f"/api/v1/wallets/{s.wallet.pk}/drawdowns/"
    first = api.post(path, {"amount": money("3.00"), "reference": "m-1"}, idem="k")
    assert first.status_code == 201
    before = effects()
    other = api.post(path, {"amount": money("4.00"), "reference": "m-1"}, idem="k")
    assert other.status_code == 422
    assert other.data["error"] == "idempotency_key_reused"
    assert other.data["field"] == "Idempotency-Key"
    assert "another request" in other.data["detail"]
    elsewhere = api.post(
        f"/api/v1/wallets/{s.wallet.pk}/transfer-to-credit/",
        {"amount": money("3.00"), "reference": "m-1"},
        idem="k",
    )
    assert elsewhere.status_code == 422
    assert effects() == before


def test_key_order_and_spacing_of_the_json_body_do_not_matter(api):
    s = side("Alpha")
    path = f"/api/v1/wallets/{s.wallet.pk}/drawdowns/"
    first = api.call(
        "POST",
        path,
        raw='{"reference": "m", "amount": {"amount": "1.00", "currency": "GBP"}}',
        idem="k",
    )
    again = api.call(
        "POST", path, raw='{"amount":{"currency":"GBP","amount":"1.00"},"reference":"m"}', idem="k"
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"


def test_a_refusal_keeps_nothing_and_can_be_retried_with_the_same_key(api, verified):
    s = side("Alpha")
    path = f"/api/v1/wallets/{s.wallet.pk}/drawdowns/"
    body = {"amount": money("900.00"), "reference": "big"}
    refused = api.post(path, body, idem="k")
    assert refused.status_code == 409
    assert refused.data["error"] == "insufficient_funds"
    assert not IdempotencyRecord.objects.exists()
    api.post(f"/api/v1/wallets/{s.wallet.pk}/top-ups/", {"amount": money("1000.00"), "grant": True})
    assert api.post(path, body, idem="k").status_code == 201


def test_writes_without_a_key_still_work_and_a_bad_key_is_refused(api):
    s = side("Alpha")
    path = f"/api/v1/wallets/{s.wallet.pk}/drawdowns/"
    assert api.post(path, {"amount": money("1.00"), "reference": "a"}).status_code == 201
    bad = api.post(path, {"amount": money("1.00"), "reference": "b"}, idem="x" * 300)
    assert (bad.status_code, bad.data["field"]) == (422, "Idempotency-Key")
