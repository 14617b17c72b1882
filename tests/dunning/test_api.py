"""Dunning over the API, through the same services as the admin: reminder levels
(``GET/POST /api/v1/reminder-levels/``), an invoice's reminders and *send reminder now*
(``GET .../reminders/``, ``POST .../send-reminder/``) and an account's exclusion
(``POST/DELETE /api/v1/accounts/{id}/dunning-exclusion/``). Errors say what and where
(422 with the field, 404 for another account's object, 409 for a state conflict) and
change nothing; a retried write with the same ``Idempotency-Key`` sends nothing twice."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from billing_site.api.models import ApiScope
from events.models import Event, EventType
from payments import services as pay
from payments.models import DunningExclusion, Reminder, ReminderLevel
from tests.api.conftest import Api

from .conftest import ACTOR, BODY, account, issued, make_levels

pytestmark = pytest.mark.django_db(transaction=True)  # the emails leave after commit


def late(name="Acme Ltd", days=8):
    return issued(account(name), "75.00", due=timezone.localdate() - timedelta(days=days))


def client(make_key, **kwargs) -> Api:
    _key, raw = make_key(**kwargs)
    return Api(raw)


def test_reminder_levels_list_and_create(api, make_key):
    body = {"name": "Late", "offset_days": 7, "subject": "Invoice {invoice_number}", "body": BODY}
    created = api.post("/api/v1/reminder-levels/", body, idem="level-1")
    assert created.status_code == 201, created.data
    assert created.data["offset_days"] == 7 and created.data["is_active"] is True
    replay = api.post("/api/v1/reminder-levels/", body, idem="level-1")
    assert replay.status_code == 201 and replay.data["id"] == created.data["id"]
    listed = api.get("/api/v1/reminder-levels/")
    assert listed.status_code == 200 and [r["name"] for r in listed.data["results"]] == ["Late"]
    read_only = client(make_key, scopes=[ApiScope.READ])
    assert read_only.get("/api/v1/reminder-levels/").status_code == 403
    bad = api.post("/api/v1/reminder-levels/", {**body, "offset_days": 9, "body": "{nope}"})
    assert bad.status_code == 422 and bad.data["field"] == "body"
    assert "unknown placeholder {nope}" in bad.data["detail"]
    twin = api.post("/api/v1/reminder-levels/", {**body, "name": "Twin"})
    assert twin.status_code == 422 and twin.data["field"] == "offset_days"
    far = api.post("/api/v1/reminder-levels/", {**body, "offset_days": 400})
    assert far.status_code == 422 and far.data["field"] == "offset_days"
    no_admin = client(make_key, scopes=[ApiScope.READ, ApiScope.WRITE, ApiScope.PAYMENTS])
    assert no_admin.post("/api/v1/reminder-levels/", {**body, "offset_days": 3}).status_code == 403
    restricted = client(make_key, accounts=[account("Other Ltd")])
    assert (
        restricted.post("/api/v1/reminder-levels/", {**body, "offset_days": 3}).status_code == 403
    )
    assert ReminderLevel.objects.count() == 1


def test_send_a_reminder_now_list_it_and_replay(api):
    friendly, first, _final = make_levels()
    inv = late()
    url = f"/api/v1/invoices/{inv.pk}/send-reminder/"
    sent = api.post(url, {}, idem="remind-1")
    assert sent.status_code == 201, sent.data
    assert sent.data["level"] == first.pk and sent.data["status"] == "queued"  # then mailed
    assert sent.data["sent_to"] == "acme@example.test" and "/pay/" in sent.data["pay_url"]
    assert api.post(url, {}, idem="remind-1").data["id"] == sent.data["id"]  # replayed
    assert len(mail.outbox) == 1 and sent.data["pay_url"] in mail.outbox[0].body
    listed = api.get(f"/api/v1/invoices/{inv.pk}/reminders/")
    assert listed.status_code == 200
    assert [(r["level_name"], r["status"]) for r in listed.data["results"]] == [
        ("First reminder", "sent"),
        ("Friendly note", "skipped"),
    ]
    (event,) = Event.objects.filter(type=EventType.INVOICE_REMINDER_SENT)
    assert event.payload["reminder"]["id"] == sent.data["id"]
    assert event.payload["invoice"]["id"] == inv.pk
    assert api.post(url, {"level": friendly.pk}).status_code == 409  # a later one went


def test_send_reminder_errors_change_nothing(api, make_key):
    _friendly, first, _final = make_levels()
    inv = late()
    url = f"/api/v1/invoices/{inv.pk}/send-reminder/"
    unknown = api.post(url, {"level": 999999})
    assert unknown.status_code == 422 and unknown.data["field"] == "level"
    malformed = api.post(url, {"level": "first"})
    assert malformed.status_code == 422 and malformed.data["field"] == "level"
    other = client(make_key, accounts=[account("Other Ltd")])
    assert other.post(url, {}).status_code == 404
    assert other.get(f"/api/v1/invoices/{inv.pk}/reminders/").status_code == 404
    no_scope = client(make_key, scopes=[ApiScope.READ, ApiScope.WRITE])
    assert no_scope.post(url, {}).status_code == 403
    assert api.post(url, {"level": first.pk}).status_code == 201
    again = api.post(url, {"level": first.pk})
    assert again.status_code == 409 and again.data["field"] == "level"
    paid = late("Paid Ltd")
    pay.mark_invoice_paid(invoice=paid, method="cash", actor=ACTOR)
    refused = api.post(f"/api/v1/invoices/{paid.pk}/send-reminder/", {})
    assert refused.status_code == 409 and refused.data["field"] == "invoice"
    assert "it is paid" in refused.data["detail"]
    assert Reminder.objects.filter(status__in=["queued", "sent"]).count() == 1
    assert len(mail.outbox) == 1


def test_exclude_and_include_an_account(api, make_key):
    make_levels()
    inv = late()
    url = f"/api/v1/accounts/{inv.account_id}/dunning-exclusion/"
    missing = api.post(url, {})
    assert missing.status_code == 422 and missing.data["field"] == "reason"
    blank = api.post(url, {"reason": "   "})
    assert blank.status_code == 422 and blank.data["field"] == "reason"
    other = client(make_key, accounts=[account("Other Ltd")])
    assert other.post(url, {"reason": "x"}).status_code == 404
    assert not DunningExclusion.objects.exists()
    done = api.post(url, {"reason": "in a payment plan"}, idem="ex-1")
    assert done.status_code == 201 and done.data["reason"] == "in a payment plan"
    assert api.post(url, {"reason": "again"}).status_code == 409
    remind = api.post(f"/api/v1/invoices/{inv.pk}/send-reminder/", {})
    assert remind.status_code == 409 and remind.data["field"] == "account"
    assert not Reminder.objects.exists() and mail.outbox == []
    included = api.delete(url)
    assert included.status_code == 200 and included.data == {
        "account": inv.account_id,
        "excluded": False,
    }
    assert api.delete(url).status_code == 409
    assert other.delete(url).status_code == 404
    assert not DunningExclusion.objects.exists()
    assert api.post(f"/api/v1/invoices/{inv.pk}/send-reminder/", {}).status_code == 201
