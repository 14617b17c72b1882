"""The hash chain of each account's ledger (issue 12, item 6; ``ledger.chain``).

Adds ``LedgerEntry.digest`` and ``Account.last_digest`` and back-fills them for the
entries already stored, account by account in seq order, in Python with
``ledger.chain`` (the frozen v1 format the posting service writes).

The back-fill UPDATEs entries, which the append-only trigger refuses. So the migration
switches that one guard off around it and on again, inside the migration's own
transaction (PostgreSQL and SQLite both run DDL transactionally, and Django runs each
migration of these databases atomically):

- PostgreSQL: ``ALTER TABLE ... DISABLE TRIGGER ledger_entry_no_update`` then ``ENABLE``.
  The catalog change is transactional: other sessions never see the trigger disabled
  (they see the committed catalog, with the trigger enabled, before and after), and the
  ALTER TABLE lock (SHARE ROW EXCLUSIVE) keeps every other writer of the table waiting
  until the migration commits. If anything fails, the rollback restores the trigger
  with everything else. The DELETE guard is never touched.
- SQLite: the UPDATE trigger is dropped and created again (the column change to NOT
  NULL also rebuilds the table there, which would drop it anyway).

The last step checks that the guard is back; the PostgreSQL tests of
``tests/ledger/test_append_only.py`` check it refuses.
"""

from django.db import migrations, models

from ledger import chain

TRIGGER = "ledger_entry_no_update"
TABLE = "ledger_ledgerentry"
SQLITE_TRIGGER = f"""
CREATE TRIGGER {TRIGGER} BEFORE UPDATE ON {TABLE}
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: UPDATE refused'); END;
"""
BATCH = 2000


def guard_off(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TRIGGER}")
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")


def guard_on(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {TRIGGER}")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tgenabled FROM pg_trigger WHERE tgname = %s AND tgrelid = %s::regclass",
                [TRIGGER, TABLE],
            )
            assert cursor.fetchone() == ("O",), f"{TRIGGER} is not enabled"
    elif connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
        schema_editor.execute(SQLITE_TRIGGER)


def back_fill(apps, schema_editor):
    """Chain every stored entry, account by account, in seq order."""
    alias = schema_editor.connection.alias
    Entry = apps.get_model("ledger", "LedgerEntry")
    Account = apps.get_model("ledger", "Account")
    rows = (
        Entry.objects.using(alias)
        .order_by("account_id", "seq")
        .values_list("pk", *chain.FIELD_NAMES)
        .iterator(chunk_size=BATCH)
    )
    account_id, digest, pending = None, chain.GENESIS, []

    def flush():
        Entry.objects.using(alias).bulk_update(pending, ["digest"], batch_size=BATCH)
        pending.clear()

    def close_account():
        if account_id is not None:
            Account.objects.using(alias).filter(pk=account_id).update(last_digest=digest)

    for pk, *values in rows:
        fields = dict(zip(chain.FIELD_NAMES, values, strict=True))
        if fields["account_id"] != account_id:
            close_account()
            account_id, digest = fields["account_id"], chain.GENESIS
        digest = chain.entry_digest(digest, fields)
        pending.append(Entry(pk=pk, digest=digest))
        if len(pending) >= BATCH:
            flush()
    flush()
    close_account()
    if schema_editor.connection.vendor == "postgresql":
        # Fire any deferred constraint checks now, so the ALTER TABLE after this step
        # finds no pending trigger events on the table.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0007_credit_notes_invoice_changes")]

    operations = [
        migrations.AddField(
            model_name="account",
            name="last_digest",
            field=models.CharField(default=chain.GENESIS, editable=False, max_length=64),
        ),
        migrations.RunPython(guard_off, guard_on),
        migrations.AddField(
            model_name="ledgerentry",
            name="digest",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(back_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="ledgerentry",
            name="digest",
            field=models.CharField(db_default="", editable=False, max_length=64),
        ),
        migrations.RunPython(guard_on, guard_off),
    ]
