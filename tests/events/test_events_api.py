"""GET /api/v1/events/: read-only, account-restricted like every resource, cursor-paged
newest first, filters by account and type; and the admin's read-only record list."""

import pytest

from events.models import Event, EventType
from ledger import services as ledger
from payments import services as pay

from .conftest import ACTOR, Api, invoice

pytestmark = pytest.mark.django_db


def account(name):
    return ledger.create_account(
        name=name, email=f"{name.lower()}@example.test", currency="GBP", actor=ACTOR
    )


@pytest.fixture
def two(db):
    mine, theirs = account("Mine"), account("Theirs")
    for acct in (mine, theirs):
        inv = invoice(acct, "30.00", issue=True)
        pay.mark_invoice_paid(invoice=inv, method="cash", actor=ACTOR)
    return mine, theirs


def test_a_restricted_key_sees_only_its_accounts_events(make_key, two):
    mine, theirs = two
    _key, raw = make_key(accounts=[mine])
    client = Api(raw)
    listed = client.get("/api/v1/events/").data["results"]
    assert {e["account"] for e in listed} == {mine.pk}
    assert len(listed) == 3
    other = Event.objects.filter(account=theirs).first()
    assert client.get(f"/api/v1/events/{other.pk}/").status_code == 404
    own = Event.objects.filter(account=mine).first()
    assert client.get(f"/api/v1/events/{own.pk}/").data["id"] == str(own.pk)


def test_list_newest_first_paged_and_filtered(api, two):
    mine, _theirs = two
    page = api.get("/api/v1/events/", {"limit": 2})
    assert page.status_code == 200
    assert len(page.data["results"]) == 2
    seen = [e["id"] for e in page.data["results"]]
    while page.data["next"]:
        page = api.get(page.data["next"].split("testserver", 1)[1])
        seen += [e["id"] for e in page.data["results"]]
    expected = Event.objects.order_by("-created_at", "-seq").values_list("id", flat=True)
    assert seen == [str(i) for i in expected]
    paid = api.get("/api/v1/events/", {"account": mine.pk, "type": "invoice.paid"}).data
    assert [e["type"] for e in paid["results"]] == [EventType.INVOICE_PAID]
    assert paid["results"][0]["payload"]["invoice"]["status"] == "paid"


def test_a_forged_cursor_and_writes_are_refused(api, two):
    assert api.get("/api/v1/events/", {"cursor": "cD1ub3QtYS1kYXRl"}).status_code == 422
    assert api.post("/api/v1/events/", {}, idem="x").status_code == 405


def test_the_admin_lists_events_read_only(client, django_user_model, two):
    user = django_user_model.objects.create_superuser("root", "root@example.test", "pw")
    client.force_login(user)
    response = client.get("/admin/events/event/")
    assert response.status_code == 200
    assert b"invoice.paid" in response.content
    event = Event.objects.first()
    page = client.get(f"/admin/events/event/{event.pk}/change/")
    assert page.status_code == 200 and b"payload" in page.content
    assert client.get("/admin/events/event/add/").status_code == 403
    index = client.get("/admin/").content.decode()
    records = index.split("Records", 1)[1].split("Settings", 1)[0]
    assert "/admin/events/event/" in records
