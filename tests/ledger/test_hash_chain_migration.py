"""Migration ``ledger.0008_hash_chain`` back-fills the chain of entries stored before it
(switching the append-only UPDATE guard off only inside its own transaction) and
leaves the guard on: the entries then verify, and an UPDATE is refused again."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from ledger import chain
from ledger.models import Account, LedgerEntry

BEFORE = [("ledger", "0007_credit_notes_invoice_changes")]

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def write_history_before_the_chain(apps) -> list[int]:
    """Two accounts with entries as the code before the chain stored them."""
    OldAccount = apps.get_model("ledger", "Account")
    OldEntry = apps.get_model("ledger", "LedgerEntry")
    t0 = timezone.now() - timedelta(days=3)
    ids = []
    for name, amounts in (("Old A", ["10.00", "-2.50", "7.25"]), ("Old B", ["1.00"])):
        account = OldAccount.objects.create(name=name, email="old@example.test", currency="GBP")
        balance = Decimal(0)
        for seq, amount in enumerate(amounts, 1):
            balance += Decimal(amount)
            OldEntry.objects.create(
                account=account,
                seq=seq,
                posted_at=t0 + timedelta(minutes=seq),
                kind="PAYM",
                reference=f"PAYM-{name}-{seq}",
                description="before | the chain ✓",
                currency="GBP",
                debit=Decimal(0),
                credit=Decimal(amount),
                balance_after=balance,
                actor_label="system:old",
            )
        OldAccount.objects.filter(pk=account.pk).update(
            balance=balance, last_seq=len(amounts), last_posted_at=t0 + timedelta(minutes=seq)
        )
        ids.append(account.pk)
    return ids


def test_existing_entries_are_chained_and_the_guard_is_back():
    try:
        executor = migrate(BEFORE)
        ids = write_history_before_the_chain(executor.loader.project_state(BEFORE).apps)
    finally:
        migrate(latest())
    for account in Account.objects.filter(pk__in=ids):
        digest = chain.GENESIS
        rows = LedgerEntry.objects.filter(account=account).order_by("seq").values()
        for row in rows:
            digest = chain.entry_digest(digest, row)
            assert row["digest"] == digest
        assert account.last_digest == digest != chain.GENESIS
    call_command("verify_ledger", *[f"--account={pk}" for pk in ids], verbosity=0)
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_ledgerentry SET digest = ''")
    assert not LedgerEntry.objects.filter(digest="").exists()


def test_the_database_is_back_at_the_latest_schema():
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
