"""The database refuses UPDATE and DELETE of ledger entries (SPEC section 3).

PostgreSQL: row triggers on UPDATE and DELETE. TRUNCATE (used by test teardown) is a
different statement and stays allowed to the owner. SQLite: an UPDATE trigger; DELETE
stays possible there only because Django's test flush needs it — the model, its
queryset and the admin all refuse deletion.
"""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION ledger_entry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only: % refused on entry %', TG_OP, OLD.id
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_append_only();
CREATE TRIGGER ledger_entry_no_delete BEFORE DELETE ON ledger_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_append_only();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS ledger_entry_no_update ON ledger_ledgerentry;
DROP TRIGGER IF EXISTS ledger_entry_no_delete ON ledger_ledgerentry;
DROP FUNCTION IF EXISTS ledger_entry_append_only();
"""
SQLITE_UP = """
CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_ledgerentry
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: UPDATE refused'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS ledger_entry_no_update;"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UP, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DOWN, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
