"""Database-level append-only guards, used by migrations of append-only tables.

PostgreSQL: row triggers refuse UPDATE and DELETE (TRUNCATE, used by test teardown, is
a different statement). SQLite: an UPDATE trigger; DELETE stays possible there only
because Django's test flush needs it — models, querysets and the admin refuse it.
"""

from django.db import migrations


def _pg_up(table: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{table} rows are append-only: % refused on row %', TG_OP, OLD.id
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
"""


def _pg_down(table: str) -> str:
    return f"""
DROP TRIGGER IF EXISTS {table}_no_update ON {table};
DROP TRIGGER IF EXISTS {table}_no_delete ON {table};
DROP FUNCTION IF EXISTS {table}_append_only();
"""


def _sqlite_up(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} rows are append-only: UPDATE refused'); END;"
    )


def append_only(table: str) -> migrations.RunPython:
    def forwards(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(_pg_up(table), params=None)
        elif vendor == "sqlite":
            schema_editor.execute(_sqlite_up(table), params=None)

    def backwards(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(_pg_down(table), params=None)
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update;", params=None)

    return migrations.RunPython(forwards, backwards)
