"""The statement CSV on PostgreSQL comes from ``COPY ... TO STDOUT WITH CSV``
(``ledger.csv_copy``): byte for byte what the generic path (``csv.writer`` over
``iter_statement``) writes, for a history that tries every escape."""

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from moneyed import Money

from ledger import csv_copy, csv_export, services
from ledger.services import Posting

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TEXTS = [
    ('He said "hi", then left', "card"),
    ("line one\nline two", "bank,transfer"),
    ("windows\r\nline", ""),
    ("=1+1", "=cmd"),
    ("+44 20 7946 0000", "@sum"),
    ("-negative start", "\tTab"),
    ("\rcarriage", "plain"),
    ("Zürich — 日本 🎉 ½", "ümlaut"),
    ("", ""),
    ('"', ","),
    ("trailing space ", " leading space"),
    ("back\\slash \\. \\N", "\\."),
]
AMOUNTS = {
    "GBP": ["12.34", "-0.01", "1000000.00", "-75.50"],
    "JPY": ["1200", "-1", "7", "-99999"],
    "KWD": ["1.234", "-0.001", "12.500", "-3.010"],
}
TIMES = [  # in time order: a historical zone with seconds in its offset, DST, winter
    datetime(1960, 6, 1, 12, 0, 0, 999999, tzinfo=UTC),
    datetime(2024, 3, 31, 0, 59, 59, tzinfo=UTC),
    datetime(2024, 3, 31, 1, 0, 0, tzinfo=UTC),
    datetime(2024, 7, 1, 23, 30, 0, tzinfo=UTC),
    datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC),
]


@pytest.fixture(params=sorted(AMOUNTS))
def tricky(request, make_account, actor):
    currency = request.param
    account = make_account(currency)
    amounts = AMOUNTS[currency]
    n = 0
    for at in TIMES:
        postings = []
        for description, method in TEXTS[n % len(TEXTS) :][:3] or TEXTS[:3]:
            amount = amounts[n % len(amounts)]
            n += 1
            postings.append(
                Posting(
                    kind="INVC" if n % 3 == 0 else ("CRED" if n % 3 == 1 else "PAYM"),
                    amount=Money(amount, currency),
                    reference=f'REF-{n},"{description[:10]}"',
                    description=description,
                    method=method,
                )
            )
        services.post(account=account, postings=postings, actor=actor, at=at)
    for description, method in TEXTS:  # every text once more, now
        n += 1
        services.post(
            account=account,
            postings=[
                Posting(
                    kind="PAYM",
                    amount=Money(amounts[n % len(amounts)], currency),
                    reference=description[:64] or "REF",
                    description=description,
                    method=method,
                )
            ],
            actor=actor,
        )
    account.refresh_from_db()
    return account


def body(lines) -> bytes:
    return b"".join(part.encode() if isinstance(part, str) else part for part in lines)


def both_paths(account, date_from=None, date_to=None, monkeypatch=None) -> tuple[bytes, bytes]:
    copied = body(csv_export.statement_csv_lines(account, date_from, date_to))
    monkeypatch.setattr(csv_copy, "available", lambda: False)
    generic = body(csv_export.statement_csv_lines(account, date_from, date_to))
    monkeypatch.undo()
    return copied, generic


@pytest.mark.parametrize("zone", ["UTC", "Europe/London", "Africa/Monrovia", "America/St_Johns"])
def test_copy_and_generic_paths_are_byte_identical(tricky, monkeypatch, zone):
    with timezone.override(zone):
        copied, generic = both_paths(tricky, monkeypatch=monkeypatch)
    assert copied == generic
    assert generic.count(b"\r\n") >= tricky.last_seq + 2
    assert b'"He said ""hi"", then left"' in generic
    assert "Zürich — 日本 🎉 ½".encode() in generic


def test_small_batches_and_a_period_are_byte_identical(tricky, monkeypatch):
    monkeypatch.setattr(csv_copy, "BATCH", 4)  # batches end inside and outside newlines
    for period in [(None, None), (date(2024, 3, 31), date(2024, 7, 1)), (date(2030, 1, 1), None)]:
        copied, generic = both_paths(tricky, *period, monkeypatch=monkeypatch)
        monkeypatch.setattr(csv_copy, "BATCH", 4)
        assert copied == generic, period


def test_the_staff_download_uses_copy_and_matches(tricky, admin_client, monkeypatch):
    calls = []
    real = csv_copy._batch
    monkeypatch.setattr(csv_copy, "_batch", lambda *a: calls.append(1) or real(*a))
    response = admin_client.get(reverse("admin:ledger_account_payments_csv", args=[tricky.pk]))
    downloaded = b"".join(response.streaming_content)
    assert calls, "the PostgreSQL download did not go through COPY"
    monkeypatch.setattr(csv_copy, "available", lambda: False)
    assert downloaded == body(csv_export.statement_csv_lines(tricky))
