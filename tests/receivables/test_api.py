"""The receivables over the API: ``GET /api/v1/receivables/aging/`` gives the report's
figures (amounts as strings with their currency), a restricted key sees its accounts
only, a bad parameter is a 400 naming it; ``GET /api/v1/receivables/overview/`` gives
the overview's figures, for unrestricted keys."""

from decimal import Decimal

import pytest

from billing_site.api.models import ApiScope
from tests.api.conftest import Api

from .history import AS_OF, BUCKET_ORDER, EXPECTED_ACCOUNTS, EXPECTED_GROUPS, EXPECTED_TOTALS, build

pytestmark = pytest.mark.django_db
D = Decimal
AGING = "/api/v1/receivables/aging/"
OVERVIEW = "/api/v1/receivables/overview/"


def figures(row: dict) -> tuple:
    assert all(isinstance(row[b]["amount"], str) for b in BUCKET_ORDER)
    assert {row[b]["currency"] for b in BUCKET_ORDER} == {row["currency"]}
    return tuple(D(row[b]["amount"]) for b in BUCKET_ORDER)


def test_aging_over_the_api(api, actor):
    made = build(actor)
    answer = api.get(AGING, {"as_of": AS_OF.isoformat()})
    assert answer.status_code == 200, answer.data
    body = answer.data
    assert body["as_of"] == "2026-06-30" and body["by"] == "account"
    assert {r["name"]: figures(r) for r in body["results"]} == EXPECTED_ACCOUNTS
    assert {r["currency"]: figures(r) for r in body["totals"]} == EXPECTED_TOTALS
    alpha = next(r for r in body["results"] if r["name"] == "Alpha Ltd")
    assert alpha["account"] == made["alpha"].pk and alpha["group_name"] == "Acme"
    assert alpha["overdue"] == {"amount": "290.00", "currency": "GBP"}
    groups = api.get(AGING, {"as_of": "2026-06-30", "by": "group"}).data
    assert {(r["name"], r["currency"]): figures(r) for r in groups["results"]} == EXPECTED_GROUPS
    euros = api.get(AGING, {"as_of": "2026-06-30", "currency": "EUR"}).data
    assert [r["name"] for r in euros["results"]] == ["Echo GmbH"]


def test_a_restricted_key_sees_its_accounts_only(make_key, actor):
    made = build(actor)
    _key, raw = make_key(scopes=[ApiScope.READ], accounts=[made["bravo"]])
    client = Api(raw)
    body = client.get(AGING, {"as_of": "2026-06-30"}).data
    assert [r["name"] for r in body["results"]] == ["Bravo Ltd"]
    assert [figures(r) for r in body["totals"]] == [EXPECTED_ACCOUNTS["Bravo Ltd"]]
    refused = client.get(OVERVIEW)
    assert refused.status_code == 403 and refused.data["error"] == "forbidden"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"as_of": "2026-02-30"}, "as_of"),
        ({"as_of": "30/06/2026"}, "as_of"),
        ({"as_of": "20260630"}, "as_of"),
        ({"by": "planet"}, "by"),
        ({"currency": "XXX"}, "currency"),
        ({"asof": "2026-06-30"}, "asof"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(api, params, field):
    answer = api.get(AGING, params)
    assert answer.status_code == 400
    assert answer.data["field"] == field and answer.data["error"] == "invalid"
    assert answer.data["detail"].startswith(f"{field}:")


def test_the_overview_over_the_api(api, actor, monkeypatch):
    from payments.selectors.overview import finance_overview

    from . import faces

    made = build(actor)
    faces.add_overview_rows(actor, made, monkeypatch)
    body = api.get(OVERVIEW).data
    expected = finance_overview()
    assert [c["currency"] for c in body["currencies"]] == [c.currency for c in expected.currencies]
    gbp = next(c for c in body["currencies"] if c["currency"] == "GBP")
    row = expected.of("GBP").receivables
    assert gbp["receivables"]["total"] == {"amount": str(row.total.amount), "currency": "GBP"}
    assert gbp["received_this_month"]["amount"] == {"amount": "17.34", "currency": "GBP"}
    methods = {m["method"]: m["amount"]["amount"] for m in gbp["received_this_month"]["by_method"]}
    assert methods == {"bank_transfer": "5.00", "cash": "12.34"}
    assert gbp["pending_billing"] == {"count": 1, "amount": {"amount": "33.00", "currency": "GBP"}}
    assert gbp["held_for_ongoing_invoices"]["amount"]["amount"] == "30.00"
    eur = next(c for c in body["currencies"] if c["currency"] == "EUR")
    assert eur["stuck_processing"]["count"] == 1


def test_a_key_without_the_read_scope_is_refused(make_key):
    _key, raw = make_key(scopes=[ApiScope.WRITE])
    assert Api(raw).get(AGING).status_code == 403
    assert Api(None).get(AGING).status_code == 401
