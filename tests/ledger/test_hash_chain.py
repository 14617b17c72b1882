"""Each account's ledger is a hash chain (issue 12, item 6): every entry stores a digest
of its content and of the previous entry's digest, the account row the last one, so an
edit made by someone who disabled the append-only trigger is detected and
``verify_ledger`` names the first broken entry."""

from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from moneyed import Money

from ledger import chain, services
from ledger.models import Account, LedgerEntry
from ledger.services import Posting
from ledger.services import posting as posting_module

pytestmark = pytest.mark.django_db

TRICKY = [
    ("PAYM", "12.34", 'PAYM-"1"|x', 'Zürich — 日本 🎉 "quoted", a|b\nsecond line'),
    ("INVC", "100.00", "INVC-2", "=SUM(A1:A2)"),
    ("CRED", "-5.01", "CRED-3", ""),
    ("INVC", "-0.01", "INVC-4", "|||"),
]

# A fixed entry and its v1 digest after GENESIS: the canonical text must never change
# (stored chains would no longer verify); a new format is a new version.
GOLDEN = {
    "account_id": 7,
    "seq": 3,
    "posted_at": datetime(2026, 12, 1, 9, 30, 0, 1, tzinfo=UTC),
    "kind": "PAYM",
    "reference": "PAYM-1|2",
    "description": 'Zürich — 日本 🎉 "q", a|b\nline',
    "currency": "KWD",
    "debit": Decimal("0"),
    "credit": Decimal("12.345"),
    "balance_after": Decimal("-0.5"),
    "method": "card",
    "invoice_id": None,
    "source_type_id": 12,
    "source_id": 99,
    "actor_id": None,
    "actor_label": "system:tests",
}
GOLDEN_TEXT = (
    "v1|7|3|2026-12-01T09:30:00.000001|4:PAYM|8:PAYM-1|2|"
    '27:Zürich — 日本 🎉 "q", a|b\nline|3:KWD|0.0000|12.3450|-0.5000|4:card||12|99||'
    "12:system:tests"
)
GOLDEN_DIGEST = "6185e2bc6378ec8227cdf27ecf34469f729b08f0dc206a2c11b70f741e761687"


def post_tricky(account, actor, currency="GBP", **extra):
    postings = [
        Posting(kind=k, amount=Money(a, currency), reference=r, description=d, **extra)
        for k, a, r, d in TRICKY
    ]
    return services.post(account=account, postings=postings, actor=actor)


def verify(*accounts):
    out, err = StringIO(), StringIO()
    args = [f"--account={a.pk}" for a in accounts]
    try:
        call_command("verify_ledger", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return False, f"{exc}\n{err.getvalue()}"
    return True, out.getvalue()


def stored_chain(account) -> list[tuple[int, str]]:
    return list(
        LedgerEntry.objects.filter(account=account).order_by("seq").values_list("seq", "digest")
    )


def recomputed_chain(account) -> list[tuple[int, str]]:
    digest, out = chain.GENESIS, []
    for row in LedgerEntry.objects.filter(account=account).order_by("seq").values():
        digest = chain.entry_digest(digest, row)
        out.append((row["seq"], digest))
    return out


# --- the format --------------------------------------------------------------------


def test_canonical_text_and_digest_are_pinned():
    assert chain.content(GOLDEN) == GOLDEN_TEXT
    assert chain.entry_digest(chain.GENESIS, GOLDEN) == GOLDEN_DIGEST
    # Money or Decimal, any scale, negative zero: the same text
    same = {**GOLDEN, "credit": Money("12.345", "KWD"), "balance_after": Decimal("-0.50000")}
    assert chain.content(same) == GOLDEN_TEXT
    assert chain.content({**GOLDEN, "debit": Decimal("-0")}) == GOLDEN_TEXT


@pytest.mark.postgres
def test_postgresql_expression_gives_the_same_text():
    casts = {"int": "bigint", "text": "text", "money": "numeric", "time": "timestamptz"}
    params = {name: f"%({name})s::{casts[kind]}" for name, kind in chain.FIELDS}
    text_sql = chain.sql_content(params)
    link_sql = chain.sql_link("decode(%(prev)s, 'hex')", text_sql)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {text_sql}, encode({link_sql}, 'hex')", {**GOLDEN, "prev": chain.GENESIS}
        )
        text, digest = cursor.fetchone()
    assert text == GOLDEN_TEXT
    assert digest == GOLDEN_DIGEST


# --- what posting writes -------------------------------------------------------------


def test_every_entry_is_chained_to_the_one_before(make_account, actor, make_invoice):
    account = make_account()
    invoice = make_invoice(account, "10.00")
    entries = post_tricky(account, actor)
    entries += services.post(
        account=account,
        postings=[Posting(kind="PAYM", amount="1.00", reference="PAYM-5", invoice=invoice)],
        actor=actor,
    )
    entries += services.post(
        account=account,
        postings=[Posting(kind="CRED", amount="2.00", reference="CRED-6", source=invoice)],
        actor=actor,
    )
    assert stored_chain(account) == recomputed_chain(account)
    assert [(e.seq, e.digest) for e in entries] == stored_chain(account)
    account.refresh_from_db()
    assert account.last_digest == entries[-1].digest
    assert len({d for _, d in stored_chain(account)}) == len(entries)
    assert verify(account)[0]


@pytest.mark.parametrize("currency", ["JPY", "KWD"])
def test_precision_currencies_chain(make_account, actor, currency):
    account = make_account(currency)
    services.post(
        account=account,
        postings=[
            Posting(kind="INVC", amount=Money("1200" if currency == "JPY" else "1.234", currency),
                    reference="INVC-1"),
            Posting(kind="PAYM", amount=Money("7" if currency == "JPY" else "0.001", currency),
                    reference="PAYM-1"),
        ],
        actor=actor,
    )  # fmt: skip
    assert stored_chain(account) == recomputed_chain(account)
    assert verify(account)[0]


def test_user_actor_and_accounts_chain_separately(make_account, actor, django_user_model):
    user = django_user_model.objects.create_user("clerk", password="x")
    first, second = make_account(), make_account()
    post_tricky(first, services.user_actor(user))
    post_tricky(second, actor)
    assert stored_chain(first)[0][1] != stored_chain(second)[0][1]  # account id is in it
    assert stored_chain(first) == recomputed_chain(first)
    assert verify(first, second)[0]


@pytest.mark.postgres
def test_postgresql_statement_and_orm_path_write_one_chain(account, actor):
    """The one-statement path (sha256 in SQL) and the ORM path (Python) interleave on
    one account and the chain holds across them: the two give the same digests."""
    post_tricky(account, actor)
    lines = [Posting(kind="PAYM", amount=Money("3.00", "GBP"), reference="ORM|1",
                     description="Ünïcode\r\nvia the ORM path")]  # fmt: skip
    from django.utils import timezone

    posting_module._post_with_orm(account.pk, lines, actor, timezone.now(), None)
    post_tricky(account, actor)
    assert stored_chain(account) == recomputed_chain(account)
    assert verify(account)[0]


# --- tampering behind the trigger's back --------------------------------------------------

TABLE = LedgerEntry._meta.db_table


@contextmanager
def append_only_guard_off():
    """What a forger with database access does: switch the append-only trigger off,
    tamper, switch it on again (inside the test's transaction, rolled back after)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER ledger_entry_no_update")
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER ledger_entry_no_delete")
        else:
            cursor.execute("DROP TRIGGER ledger_entry_no_update")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER ledger_entry_no_update")
                cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER ledger_entry_no_delete")
            else:
                cursor.execute(
                    f"CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON {TABLE} BEGIN "
                    "SELECT RAISE(ABORT, 'ledger entries are append-only: UPDATE refused'); END"
                )


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def history(make_account, actor):
    """Two accounts with six chained entries each; the second is never touched."""
    target, other = make_account(name="Target Ltd"), make_account(name="Other Ltd")
    for account in (target, other):
        post_tricky(account, actor)
        services.post(
            account=account,
            postings=[
                Posting(kind="PAYM", amount="20.00", reference="PAYM-5"),
                Posting(kind="PAYM", amount="30.00", reference="PAYM-6"),
            ],
            actor=actor,
        )
    assert verify(target, other)[0]
    return target, other


def assert_trigger_refuses_again(account):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql(f"UPDATE {TABLE} SET description = 'x' WHERE account_id = %s", [account.pk])


@pytest.mark.postgres
def test_an_edited_amount_is_named_by_verify_ledger(history):
    target, other = history
    with append_only_guard_off():
        sql(f"UPDATE {TABLE} SET credit = credit + 1000 WHERE account_id = %s AND seq = 3",
            [target.pk])  # fmt: skip
    assert_trigger_refuses_again(target)
    ok, report = verify(target, other)
    assert not ok
    assert f"hash chain broken first at entry (account {target.pk}, seq 3)" in report
    assert "Other Ltd" not in report and "1 of 2 accounts" in report


@pytest.mark.postgres
def test_an_edit_that_keeps_the_balances_right_is_still_named(history):
    """The forger also fixes every later balance and the account's balance, so the
    running-balance checks pass: only the chain tells."""
    target, _ = history
    with append_only_guard_off():
        sql(f"UPDATE {TABLE} SET credit = credit + 1000 WHERE account_id = %s AND seq = 3",
            [target.pk])  # fmt: skip
        sql(f"UPDATE {TABLE} SET balance_after = balance_after + 1000 "
            "WHERE account_id = %s AND seq >= 3", [target.pk])  # fmt: skip
    Account.objects.filter(pk=target.pk).update(balance=target.balance.amount + 1000)
    ok, report = verify(target)
    assert not ok
    assert "balance_after" not in report and "entries sum" not in report
    assert f"hash chain broken first at entry (account {target.pk}, seq 3)" in report


@pytest.mark.postgres
def test_a_deleted_entry_is_named_by_verify_ledger(history):
    target, other = history
    with append_only_guard_off():
        sql(f"DELETE FROM {TABLE} WHERE account_id = %s AND seq = 4", [target.pk])
    assert_trigger_refuses_again(target)
    ok, report = verify(target, other)
    assert not ok
    assert (
        f"hash chain broken first at entry (account {target.pk}, seq 4): the entry is missing"
        in report
    )


@pytest.mark.postgres
def test_deleted_last_entries_are_named(history):
    target, _ = history
    with append_only_guard_off():
        sql(f"DELETE FROM {TABLE} WHERE account_id = %s AND seq >= 5", [target.pk])
    ok, report = verify(target)
    assert not ok
    assert f"(account {target.pk}, seq 5): the entry is missing (seq 5-6 absent)" in report


def test_an_edited_description_is_named_on_sqlite_too(history):
    target, _ = history
    with append_only_guard_off():
        sql(f"UPDATE {TABLE} SET description = %s WHERE account_id = %s AND seq = 2",
            ["changed", target.pk])  # fmt: skip
    ok, report = verify(target)
    assert not ok
    assert f"hash chain broken first at entry (account {target.pk}, seq 2)" in report


def test_a_changed_account_head_is_named(history):
    target, _ = history
    Account.objects.filter(pk=target.pk).update(last_digest=chain.GENESIS)
    ok, report = verify(target)
    assert not ok
    assert f"(account {target.pk}, seq 6): the account's last digest" in report


@pytest.mark.postgres
def test_blanking_some_digests_is_named(history):
    target, _ = history
    with append_only_guard_off():
        sql(f"UPDATE {TABLE} SET digest = '' WHERE account_id = %s AND seq >= 4", [target.pk])
    ok, report = verify(target)
    assert not ok and f"(account {target.pk}, seq 4)" in report


def test_entries_written_outside_the_service_are_reported(account, actor):
    """A bulk load straight into the table (as tests/members/bulk.py does) carries no
    chain: verify_ledger passes it, says so, and fails it with --require-chain."""
    services.post(
        account=account, postings=[Posting(kind="PAYM", amount="1.00", reference="P")], actor=actor
    )
    with append_only_guard_off():
        sql(f"UPDATE {TABLE} SET digest = '' WHERE account_id = %s", [account.pk])
    Account.objects.filter(pk=account.pk).update(last_digest=chain.GENESIS)
    ok, out = verify(account)
    assert ok and "1 without a hash chain" in out
    with pytest.raises(CommandError):
        call_command(
            "verify_ledger", f"--account={account.pk}", "--require-chain", stderr=StringIO()
        )


def test_a_posting_that_takes_the_last_postings_time_chains(account, actor):
    """Without ``at``, a posting after one dated later than now takes that later time
    (the statement then formats posted_at itself, not the time Python sent)."""
    from datetime import timedelta

    from django.utils import timezone

    later = timezone.now() + timedelta(hours=1, microseconds=7)
    services.post(account=account, postings=[Posting("PAYM", "1.00", "P-1")], actor=actor, at=later)
    [entry] = services.post(account=account, postings=[Posting("PAYM", "2.00", "P-2")], actor=actor)
    assert entry.posted_at == later
    assert stored_chain(account) == recomputed_chain(account)
    assert verify(account)[0]
