"""Idempotent API writes under real concurrency (PostgreSQL only): eight threads send
the same write with one Idempotency-Key at once — one effect, eight identical answers.

Real threads, each on its own database connection, released together by a barrier;
each closes its connection."""

import json
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from billing_site.api.models import ApiKey, IdempotencyRecord
from ledger import services as ledger
from ledger.models import LedgerEntry
from ledger.services import LineSpec
from payments import services as pay
from payments.models import Payment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def post_together(path: str, body: dict, raw_key: str, idem: str):
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS

    def worker(i):
        try:
            client = Client()
            barrier.wait(timeout=30)
            response = client.post(
                path,
                json.dumps(body),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {raw_key}",
                HTTP_IDEMPOTENCY_KEY=idem,
            )
            results[i] = (response.status_code, response.content)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive(), "a thread hung (deadlock?)"
    return results


@pytest.fixture
def raw_key():
    return ApiKey.create_with_key(name="racer")[1]


@pytest.fixture
def account():
    actor = ledger.system_actor("tests")
    return ledger.create_account(name="Race", email="r@x.test", currency="GBP", actor=actor)


def test_eight_concurrent_payments_with_one_key_record_one(raw_key, account):
    body = {
        "account": account.pk,
        "amount": {"amount": "10.00", "currency": "GBP"},
        "method": "cash",
    }
    results = post_together("/api/v1/payments/", body, raw_key, "pay-once")

    statuses = {status for status, _ in results}
    assert statuses == {201}, results
    assert len({content for _, content in results}) == 1  # identical bodies
    assert Payment.objects.filter(account=account).count() == 1
    assert LedgerEntry.objects.filter(account=account).count() == 1
    assert IdempotencyRecord.objects.filter(key="pay-once").count() == 1
    call_command("verify_ledger", verbosity=0)


def test_eight_concurrent_mark_paid_with_one_key_pay_once(raw_key, account):
    actor = ledger.system_actor("tests")
    draft = ledger.create_invoice(account=account, actor=actor, lines=[LineSpec("S", "1", "75")])
    invoice = pay.issue_invoice(invoice=draft, actor=actor)
    body = {"method": "bank_transfer", "amount": {"amount": "30.00", "currency": "GBP"}}
    results = post_together(f"/api/v1/invoices/{invoice.pk}/mark-paid/", body, raw_key, "mp")

    assert {status for status, _ in results} == {200}, results
    assert len({content for _, content in results}) == 1
    invoice.refresh_from_db()
    assert invoice.amount_paid.amount == 30 and invoice.status == "partially_paid"
    assert LedgerEntry.objects.filter(account=account, kind="PAYM").count() == 1
    call_command("verify_ledger", verbosity=0)
