"""SPEC worked examples reproduced purely over HTTP, asserting the statement JSON."""

import pytest

from .conftest import money

pytestmark = pytest.mark.django_db


def rows(statement):
    """(kind, debit, credit, balance_after) oldest first."""
    return [
        (r["kind"], r["debit"]["amount"], r["credit"]["amount"], r["balance_after"]["amount"])
        for r in reversed(statement["results"])
    ]


def test_spec_3_credit_applied_at_issue(api, verified):
    account = api.post(
        "/api/v1/accounts/", {"name": "Acme", "email": "a@acme.test", "currency": "GBP"}
    )
    assert account.status_code == 201, account.data
    account_id = account.data["id"]
    assert account.data["balance"] == money("0.00")

    paid = api.post(
        "/api/v1/payments/",
        {"account": account_id, "amount": money("50.00"), "method": "bank_transfer"},
    )
    assert paid.status_code == 201, paid.data
    assert paid.data["status"] == "completed"

    draft = api.post(
        "/api/v1/invoices/",
        {
            "account": account_id,
            "lines": [{"description": "Desk", "quantity": "1", "unit_price": money("75.00")}],
        },
    )
    assert draft.status_code == 201, draft.data
    assert draft.data["status"] == "draft" and draft.data["total"] == money("75.00")

    issued = api.post(f"/api/v1/invoices/{draft.data['id']}/issue/", {})
    assert issued.status_code == 200, issued.data
    assert issued.data["status"] == "partially_paid"
    assert issued.data["amount_due"] == money("25.00")
    assert issued.data["amount_paid"] == money("50.00")

    statement = api.get(f"/api/v1/accounts/{account_id}/statement/")
    assert statement.status_code == 200, statement.data
    number = issued.data["number"]
    assert rows(statement.data) == [
        ("PAYM", "0.00", "50.00", "50.00"),
        ("INVC", "75.00", "0.00", "-25.00"),
        ("PAYM", "0.00", "50.00", "25.00"),
        ("CRED", "0.00", "-50.00", "-25.00"),
    ]
    newest = statement.data["results"]
    assert newest[2]["reference"] == f"INVC-{number}"
    assert newest[1]["reference"].startswith("PAYM-") and newest[1]["method"] == ("account_balance")
    assert statement.data["closing_balance"] == money("-25.00")
    assert statement.data["opening_balance"] == money("0.00")
    assert statement.data["entry_count"] == 4
    assert api.get(f"/api/v1/accounts/{account_id}/").data["balance"] == money("-25.00")

    waiting = api.get("/api/v1/payments/", {"invoice": draft.data["id"]}).data["results"]
    assert {(p["status"], p["amount"]["amount"]) for p in waiting} == {
        ("paid_from_balance", "50.00"),
        ("waiting_for_payment", "25.00"),
    }


def test_spec_6_wallet_top_up_and_drawdown(api, verified):
    account_id = api.post(
        "/api/v1/accounts/", {"name": "Studio", "email": "s@x.test", "currency": "GBP"}
    ).data["id"]
    wallet = api.post("/api/v1/wallets/", {"account": account_id, "name": "Main"})
    assert wallet.status_code == 201, wallet.data
    wallet_id = wallet.data["id"]

    topup = api.post(
        f"/api/v1/wallets/{wallet_id}/top-ups/",
        {"amount": money("50000.00"), "method": "bank_transfer"},
    )
    assert topup.status_code == 201, topup.data
    payment = topup.data["payment"]
    assert payment["type"] == "top_up" and payment["status"] == "waiting_for_payment"
    assert topup.data["wallet"]["total"] == money("0.00")  # credited when it completes

    done = api.post(f"/api/v1/payments/{payment['id']}/complete/", {"method": "bank_transfer"})
    assert done.status_code == 200, done.data
    assert done.data["status"] == "completed"

    draw = api.post(
        f"/api/v1/wallets/{wallet_id}/drawdowns/",
        {"amount": money("1200.00"), "reference": "meter-2024-05", "description": "Product"},
    )
    assert draw.status_code == 201, draw.data
    assert draw.data["kind"] == "drawdown"
    assert draw.data["available_after"] == money("48800.00")

    state = api.get(f"/api/v1/wallets/{wallet_id}/").data
    assert state["total"] == money("50000.00")
    assert state["consumed"] == money("1200.00")
    assert state["available"] == money("48800.00")

    # Wallet money pays an issued invoice: a prepayment credit memo posted as CRMO.
    invoice = api.post(
        "/api/v1/invoices/",
        {
            "account": account_id,
            "lines": [{"description": "Seat", "quantity": "2", "unit_price": money("150.00")}],
        },
    ).data
    issued = api.post(f"/api/v1/invoices/{invoice['id']}/issue/", {}).data
    assert issued["amount_due"] == money("300.00")
    applied = api.post(f"/api/v1/wallets/{wallet_id}/apply/", {"invoice": invoice["id"]})
    assert applied.status_code == 201, applied.data
    memo = applied.data["credit_memos"][0]
    assert memo["reason"] == "prepayment" and memo["status"] == "approved"
    assert memo["amount"] == money("300.00")
    assert applied.data["wallet"]["available"] == money("48500.00")
    assert api.get(f"/api/v1/invoices/{invoice['id']}/").data["status"] == "paid"

    # The rest becomes account credit.
    moved = api.post(
        f"/api/v1/wallets/{wallet_id}/transfer-to-credit/", {"amount": money("500.00")}
    )
    assert moved.status_code == 201, moved.data

    statement = api.get(f"/api/v1/accounts/{account_id}/statement/").data
    assert rows(statement) == [
        ("INVC", "300.00", "0.00", "-300.00"),
        ("CRMO", "0.00", "300.00", "0.00"),
        ("CRED", "0.00", "500.00", "500.00"),
    ]
    assert statement["results"][1]["reference"] == f"CRMO-{memo['number']}"
    assert statement["closing_balance"] == money("500.00")

    log = api.get(f"/api/v1/wallets/{wallet_id}/transactions/").data["results"]
    assert [t["kind"] for t in log] == ["transfer_to_credit", "drawdown", "drawdown", "top_up"]
    memos = api.get("/api/v1/credit-memos/", {"invoice": invoice["id"]}).data["results"]
    assert [m["number"] for m in memos] == [memo["number"]]
