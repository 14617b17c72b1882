"""Access for every operation of the schema: no key 401; a key without the operation's
scope 403; a key restricted to account A, and a member of A, get 404 for B's objects
(exactly like an absent id) and never see them in lists."""

import re

import pytest
from django.contrib.auth import get_user_model
from drf_spectacular.generators import SchemaGenerator

from billing_site.api.models import ALL_SCOPES

from .conftest import Api, money
from .factories import ids_of, side

pytestmark = pytest.mark.django_db

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
OPERATIONS = [
    (path, method.upper(), op)
    for path, ops in SCHEMA["paths"].items()
    for method, op in ops.items()
    if not path.startswith("/api/v1/schema")
]
# Billing-admin settings (webhooks, reminder levels): unrestricted keys only, never a
# member session (tests/webhooks/test_api.py, tests/dunning/test_api.py); the
# per-account rules below are for the rest.
ADMIN_ONLY = (
    "/api/v1/webhook-endpoints/",
    "/api/v1/webhook-deliveries/",
    "/api/v1/reminder-levels/",
    "/api/v1/billing-runs/",  # a run covers every account (tests/billing_runs/test_api.py)
    "/api/v1/receivables/overview/",  # every account's figures (tests/receivables/test_api.py)
)
LISTS = [
    p for p, m, _ in OPERATIONS if m == "GET" and "{" not in p and not p.startswith(ADMIN_ONLY)
]


def scope_of(operation) -> str:
    return re.search(r"\*\*Scope:\*\* `(\w+)`", operation["description"]).group(1)


def url(path: str, ids: dict) -> str:
    resource = path.split("/")[3]
    return (
        path.replace("{id}", str(ids.get(resource, 1)))
        .replace("{line_id}", str(ids["line_id"]))
        .replace("{hold_id}", str(ids["hold_id"]))
    )


@pytest.fixture
def two(make_key):
    a, b = side("Alpha"), side("Beta")
    _key, raw = make_key("only A", accounts=[a.account])
    return a, b, Api(raw)


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS, ids=lambda v: str(v)[:60])
def test_no_key_is_401(two, path, method, op):
    a, _b, _api = two
    response = Api(None).call(method, url(path, ids_of(a)), {} if method != "GET" else None)
    assert response.status_code == 401, response.data
    assert response.data["error"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS, ids=lambda v: str(v)[:60])
def test_key_without_the_scope_is_403(two, make_key, path, method, op):
    a, _b, _api = two
    scope = scope_of(op)
    _key, raw = make_key(scopes=[s for s in ALL_SCOPES if s != scope])
    response = Api(raw).call(method, url(path, ids_of(a)), {} if method != "GET" else None)
    assert response.status_code == 403, response.data
    assert scope in response.data["detail"]


DETAIL = [(p, m, o) for p, m, o in OPERATIONS if "{id}" in p and not p.startswith(ADMIN_ONLY)]


@pytest.mark.parametrize(("path", "method", "op"), DETAIL, ids=lambda v: str(v)[:60])
def test_restricted_key_gets_404_for_other_accounts(two, path, method, op):
    a, b, api = two
    body = {} if method != "GET" else None
    other = api.call(method, url(path, ids_of(b)), body)
    assert other.status_code == 404, other.data
    assert other.data == {"error": "not_found", "detail": "Not found.", "field": None}
    absent = api.call(method, url(path, {k: 10**9 for k in ids_of(b)}), body)
    assert (absent.status_code, absent.data) == (404, other.data)  # no hint of existence
    if method == "GET":
        assert api.call(method, url(path, ids_of(a))).status_code == 200


@pytest.mark.parametrize("path", LISTS)
def test_lists_show_only_visible_accounts(two, path):
    a, b, api = two
    results = api.get(path).data["results"]
    assert results, path
    for row in results:
        account = row.get("account", row["id"] if path.endswith("accounts/") else None)
        if path.endswith("account-groups/"):
            assert row["id"] == a.group.pk
        elif account is not None:
            assert account == a.account.pk, row


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS, ids=lambda v: str(v)[:60])
def test_member_session_reads_own_accounts_only_and_never_writes(two, client, path, method, op):
    a, b, _api = two
    user = get_user_model().objects.create_user("member-a", password="x")
    a.account.members.add(user)
    client.force_login(user)
    session = Api(None)
    session.client = client
    body = {} if method != "GET" else None
    if method != "GET" or path.startswith(ADMIN_ONLY):
        response = session.call(method, url(path, ids_of(a)), body)
        assert response.status_code == 403, response.data
        return
    if "{id}" in path:
        assert session.call("GET", url(path, ids_of(b))).status_code == 404
        assert session.call("GET", url(path, ids_of(a))).status_code == 200
    else:
        assert session.call("GET", path).status_code == 200


def test_references_in_bodies_to_other_accounts_are_not_found(two):
    a, b, api = two
    response = api.post(
        "/api/v1/invoices/",
        {"account": b.account.pk, "lines": []},
    )
    assert response.status_code == 422
    assert response.data["field"] == "account"
    assert response.data["detail"] == f"account: {b.account.pk} not found."
    applied = api.post(f"/api/v1/wallets/{a.wallet.pk}/apply/", {"invoice": b.issued.pk})
    assert (applied.status_code, applied.data["field"]) == (422, "invoice")
    paid = api.post(
        "/api/v1/payments/",
        {"account": b.account.pk, "amount": money("1.00"), "method": "cash"},
    )
    assert (paid.status_code, paid.data["field"]) == (422, "account")


def test_revoked_key_is_401(two, make_key):
    key, raw = make_key("to revoke")
    key.revoke()
    response = Api(raw).get("/api/v1/accounts/")
    assert response.status_code == 401
    assert response.data["error"] == "authentication_failed"
    assert Api("bf_nothing_here").get("/api/v1/accounts/").status_code == 401
