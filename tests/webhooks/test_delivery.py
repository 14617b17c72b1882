"""Deliveries against a real HTTP receiver on 127.0.0.1: the signature (checked by the
README's snippet), retries after 500s and timeouts with growing delays, exactly one
success per event and endpoint, failure after 24 h and the endpoint disabled, and
account-restricted endpoints receiving only their accounts' events."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import Client

from billing_site.api.events import EventSerializer
from billing_site.webhooks import endpoints
from billing_site.webhooks.delivery import deliver_due
from billing_site.webhooks.fanout import fan_out_all
from billing_site.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from events.models import EventType
from ledger import services as ledger
from ledger.errors import InvalidInput

pytestmark = pytest.mark.django_db
README = Path(__file__).resolve().parents[2] / "README.md"


def readme_snippet():
    section = README.read_text().split("## Outgoing webhooks", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - our own documentation
    return scope["verify_billfold_signature"]


def run(clock):
    fan_out_all(now=clock())
    return deliver_due(now=clock())


def test_a_signed_delivery_is_verified_by_the_readme_snippet(receiver, endpoint, emit, account):
    ep, secret = endpoint()
    event = emit(account)
    assert run(lambda: event.created_at) == 1
    [request] = receiver.requests
    verify = readme_snippet()
    header = request["headers"]["Billfold-Signature"]
    assert verify(secret, header, request["body"])
    assert not verify(secret, header, request["body"] + b" ")  # the body is signed
    assert not verify("whsec_other", header, request["body"])
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    body = json.loads(request["body"])
    shown = EventSerializer(event).data
    assert body == {
        "id": str(event.id),
        "type": "invoice.paid",
        "created_at": shown["created_at"],
        "account": account.pk,
        "seq": event.seq,
        "data": event.payload,
    }
    assert request["headers"]["Billfold-Event-Id"] == str(event.id)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts_count) == ("delivered", 1)
    attempt = delivery.attempts.get()
    assert (attempt.status_code, attempt.succeeded, attempt.response_excerpt) == (
        200,
        True,
        '{"ok": true}',
    )


def test_retries_after_500s_and_timeouts_with_growing_delays(
    receiver, endpoint, emit, account, clock
):
    endpoint()
    event = emit(account)
    receiver.mode = "error"
    fan_out_all(now=clock())
    delays = []
    for number in range(1, 6):
        receiver.mode = "hang" if number == 3 else "error"
        assert deliver_due(now=clock()) == 1
        assert deliver_due(now=clock()) == 0  # not due again yet
        delivery = WebhookDelivery.objects.get()
        delays.append(delivery.next_attempt_at - clock())
        clock.now = delivery.next_attempt_at
    assert all(b > a for a, b in zip(delays, delays[1:], strict=False)), delays
    assert timedelta(seconds=54) <= delays[0] <= timedelta(seconds=66)  # 1 min ± 10 %
    attempts = list(WebhookAttempt.objects.order_by("number"))
    assert [a.status_code for a in attempts] == [500, 500, None, 500, 500]
    assert attempts[2].error.startswith("timeout")
    assert len(attempts[0].response_excerpt) == 1024  # 3 kB answered, 1 kB kept
    receiver.mode = "ok"
    assert deliver_due(now=clock()) == 1
    clock.advance(days=3)
    assert deliver_due(now=clock()) == 0  # delivered: never sent again
    assert WebhookAttempt.objects.filter(succeeded=True).count() == 1
    assert receiver.per_event[str(event.id)] == 6
    assert WebhookDelivery.objects.get().status == "delivered"
    assert WebhookEndpoint.objects.get().failing_since is None


def test_exactly_one_successful_delivery_per_event_and_endpoint(
    receiver, endpoint, emit, make_account, clock
):
    first, _ = endpoint()
    second, _ = endpoint(event_types=[EventType.INVOICE_PAID], all_events=False)
    accounts = [make_account(), make_account()]
    sent = [emit(a) for a in accounts for _ in range(2)]
    for _ in range(3):
        run(clock)
        clock.advance(hours=1)
    assert WebhookDelivery.objects.count() == 8
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert WebhookAttempt.objects.filter(succeeded=True).count() == 8
    assert all(receiver.per_event[str(e.id)] == 2 for e in sent)  # once per endpoint
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookDelivery.objects.create(event=sent[0], endpoint=first, next_attempt_at=clock())
    delivery = WebhookDelivery.objects.filter(endpoint=second).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery, number=9, started_at=clock(), duration_ms=1, status_code=200,
            succeeded=True,
        )  # fmt: skip


def test_persistent_failure_fails_the_delivery_and_disables_the_endpoint(
    receiver, endpoint, emit, account, clock, django_capture_on_commit_callbacks, boss_client
):
    ep, _ = endpoint(description="ERP")
    emit(account)
    receiver.mode = "error"
    fan_out_all(now=clock())
    start = clock()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(40):
            if not deliver_due(now=clock()):
                break
            delivery = WebhookDelivery.objects.get()
            if delivery.next_attempt_at is None:
                break
            clock.now = delivery.next_attempt_at
    delivery = WebhookDelivery.objects.get()
    attempts = list(delivery.attempts.order_by("number"))
    assert delivery.status == "failed" and delivery.next_attempt_at is None
    assert attempts[-1].started_at - start == timedelta(hours=24)  # tried for 24 h
    gaps = [b.started_at - a.started_at for a, b in zip(attempts, attempts[1:], strict=False)]
    assert max(gaps) <= timedelta(hours=6, minutes=36)  # capped at 6 h (+ jitter)
    ep.refresh_from_db()
    assert not ep.enabled and ep.auto_disabled and ep.disabled_at == clock()
    assert "failed for 24 hours" in ep.disabled_reason
    [alert] = mail.outbox
    assert alert.to == ["ops@billfold.test"] and receiver.url in alert.subject
    page = boss_client.get("/admin/webhooks/webhookendpoint/")
    text = page.content.decode()
    assert "failing: disabled automatically" in text and "was disabled" in text
    emit(account)
    fan_out_all(now=clock())
    assert WebhookDelivery.objects.count() == 1  # a disabled endpoint gets no new deliveries


def test_a_success_resets_the_failure_clock(receiver, endpoint, emit, account, clock):
    ep, _ = endpoint()
    receiver.mode = "error"
    emit(account)
    run(clock)
    ep.refresh_from_db()
    assert ep.failing_since == clock()
    receiver.mode = "ok"
    clock.advance(hours=23)
    emit(account)
    run(clock)
    ep.refresh_from_db()
    assert ep.failing_since is None and ep.enabled


def test_restricted_endpoints_receive_only_their_accounts_events(
    receiver, endpoint, emit, actor, make_account
):
    """Like an API key restricted to account A and to group G (tests/api/test_access)."""
    group = ledger.create_group(name="Gamma group", actor=actor)
    a, b, c = make_account(), make_account(), make_account(group=group)
    only_a, _ = endpoint(accounts=[a], url=receiver.url + "?who=a")
    only_group, _ = endpoint(groups=[group], url=receiver.url + "?who=group")
    everyone, _ = endpoint(url=receiver.url + "?who=all")
    paid_only, _ = endpoint(all_events=False, event_types=["invoice.issued"])
    nothing, _ = endpoint(all_events=False)
    for account in (a, b, c):
        emit(account)
    fan_out_all()
    rows = WebhookDelivery.objects.values_list("event__account", flat=True)
    got = {
        ep.pk: set(rows.filter(endpoint=ep))
        for ep in (only_a, only_group, everyone, paid_only, nothing)
    }
    assert got == {
        only_a.pk: {a.pk},
        only_group.pk: {c.pk},
        everyone.pk: {a.pk, b.pk, c.pk},
        paid_only.pk: set(),
        nothing.pk: set(),
    }
    deliver_due()
    assert len(receiver.requests) == 5


def test_endpoint_urls_must_be_https_outside_development(settings):
    settings.BILLFOLD_WEBHOOK_HTTP_LOCAL = False
    assert endpoints.clean_url("https://erp.example.com/hooks") == "https://erp.example.com/hooks"
    for bad in ("http://127.0.0.1:8000/x", "http://erp.example.com/x", "ftp://x", "", "https://"):
        with pytest.raises(InvalidInput) as refused:
            endpoints.clean_url(bad)
        assert refused.value.field == "url"
    settings.BILLFOLD_WEBHOOK_HTTP_LOCAL = True
    assert endpoints.clean_url("http://127.0.0.1:8000/x")
    with pytest.raises(InvalidInput):
        endpoints.clean_url("http://10.0.0.1/x")
    with pytest.raises(InvalidInput):
        endpoints.create_endpoint(url="https://x.example", event_types=["invoice.nope"])


@pytest.fixture
def boss_client(db):
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.create_superuser("boss", "b@x.test", "x"))
    return client


def test_a_worker_past_its_lease_cannot_record_a_second_success(
    receiver, endpoint, emit, account, clock
):
    from billing_site.webhooks.delivery import claim_due, lease, record, send

    endpoint()
    emit(account)
    fan_out_all(now=clock())
    [slow] = claim_due(now=clock())
    assert claim_due(now=clock.advance(seconds=30)) == []  # leased to the first worker
    [late] = claim_due(now=clock.advance(seconds=lease().total_seconds()))
    assert (slow.number, late.number) == (1, 2)
    first = record(late, send(late), now=clock())
    stale = record(slow, send(slow), now=clock())
    assert first.succeeded and not stale.succeeded and stale.error.startswith("superseded")
    assert WebhookAttempt.objects.filter(succeeded=True).count() == 1
    assert WebhookDelivery.objects.get().status == "delivered"
