"""One error shape for every refusal, with the right status; money only as strings."""

import pytest

from .conftest import money
from .factories import side

pytestmark = pytest.mark.django_db

SHAPE = {"error", "detail", "field"}


def test_malformed_json_is_400(api):
    response = api.call("POST", "/api/v1/accounts/", raw="{not json")
    assert response.status_code == 400
    assert set(response.data) == SHAPE and response.data["error"] == "malformed"


def test_unknown_path_and_method_are_json(api):
    missing = api.get("/api/v1/no-such-thing/")
    assert (missing.status_code, missing.data["error"]) == (404, "not_found")
    posted = api.post("/api/v1/no-such-thing/", {})
    assert posted.status_code == 404 and set(posted.data) == SHAPE
    wrong = api.call("DELETE", "/api/v1/payments/")
    assert (wrong.status_code, wrong.data["error"]) == (405, "method_not_allowed")


def test_money_must_be_a_string_at_the_currency_precision(api):
    s = side("Alpha")
    path = f"/api/v1/wallets/{s.wallet.pk}/drawdowns/"
    as_number = api.post(path, {"amount": {"amount": 1.5, "currency": "GBP"}, "reference": "a"})
    assert as_number.status_code == 422
    assert as_number.data["field"] == "amount" and "string" in as_number.data["detail"]
    too_precise = api.post(path, {"amount": money("1.005"), "reference": "a"})
    assert too_precise.status_code == 422
    assert "more decimal places than GBP allows" in too_precise.data["detail"]
    other_currency = api.post(path, {"amount": money("1.00", "EUR"), "reference": "a"})
    assert other_currency.status_code == 422
    assert other_currency.data["error"] == "currency_mismatch"
    negative = api.post(path, {"amount": money("-1.00"), "reference": "a"})
    assert negative.status_code == 422 and negative.data["field"] == "amount"


def test_nested_errors_name_their_path(api):
    s = side("Alpha")
    response = api.post(
        "/api/v1/invoices/",
        {
            "account": s.account.pk,
            "lines": [
                {"description": "ok", "quantity": "1", "unit_price": money("1.00")},
                {"description": "bad", "quantity": "1", "unit_price": money("1.00", "USD")},
            ],
        },
    )
    assert response.status_code == 422
    assert response.data["field"] == "lines[1].unit_price"


def test_state_conflicts_are_409_with_the_services_message(api):
    s = side("Alpha")
    cancelled = api.post(f"/api/v1/invoices/{s.issued.pk}/cancel/", {})
    assert cancelled.status_code == 409
    assert cancelled.data["error"] == "state_conflict"
    assert "refund instead" in cancelled.data["detail"]
    drained = api.post(
        f"/api/v1/wallets/{s.wallet.pk}/drawdowns/",
        {"amount": money("100000.00"), "reference": "huge"},
    )
    assert (drained.status_code, drained.data["error"]) == (409, "insufficient_funds")


def test_account_with_history_cannot_be_deleted_but_an_empty_one_can(api):
    s = side("Alpha")
    refused = api.delete(f"/api/v1/accounts/{s.account.pk}/")
    assert refused.status_code == 409
    fresh = api.post(
        "/api/v1/accounts/", {"name": "Empty", "email": "e@x.test", "currency": "JPY"}
    ).data
    assert fresh["balance"] == money("0", "JPY")
    assert api.delete(f"/api/v1/accounts/{fresh['id']}/").status_code == 204
    changed = api.patch(f"/api/v1/accounts/{s.account.pk}/", {"currency": "EUR"})
    assert (changed.status_code, changed.data["field"]) == (409, "currency")


def test_bad_cursor_and_limit_are_422(api):
    assert api.get("/api/v1/payments/", {"cursor": "garbage"}).status_code == 422
    assert api.get("/api/v1/payments/", {"limit": "500"}).data["field"] == "limit"


def test_statement_pages_follow_the_cursor(api):
    s = side("Alpha")
    for i in range(5):
        api.post(
            "/api/v1/payments/",
            {"account": s.account.pk, "amount": money(f"{i + 1}.00"), "method": "cash"},
        )
    path = f"/api/v1/accounts/{s.account.pk}/statement/"
    first = api.get(path, {"limit": 3}).data
    second = api.client.get(
        first["next"].replace("http://testserver", ""), HTTP_AUTHORIZATION=f"Bearer {api.raw_key}"
    ).json()
    seqs = [r["seq"] for r in first["results"] + second["results"]]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == len(seqs) == 6
    assert api.get(path, {"from": "2999-01-01"}).data["results"] == []
    assert api.get(path, {"from": "2020-02-01", "to": "2020-01-01"}).status_code == 422


def test_docs_page_is_served_without_a_cdn(client):
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "drf_spectacular_sidecar" in html
    assert "cdn" not in html.lower()
    assert client.get("/api/v1/schema/").status_code == 200
