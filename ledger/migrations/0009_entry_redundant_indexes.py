"""Drop two indexes every posting paid for and no query needs: the single-column
indexes Django adds for ``LedgerEntry.account`` and ``LedgerEntry.invoice``. The unique
``(account_id, seq)`` index (``entry_account_seq_unique``) and ``entry_invoice`` serve
every lookup by account or invoice, and the foreign keys' checks.

The database side drops the indexes by name, as introspection finds them (an ALTER of
the column would rebuild the table on SQLite, and with it drop the append-only trigger);
the model side just records ``db_index=False``.
"""

from django.db import migrations, models
from django.db.models.deletion import PROTECT

TABLE = "ledger_ledgerentry"
KEEP = {"entry_invoice"}  # declared in Meta.indexes: stays
COLUMNS = ("account_id", "invoice_id")


def _redundant(connection) -> list[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    return [
        name
        for name, info in constraints.items()
        if info["index"]
        and not info["unique"]
        and not info["primary_key"]
        and len(info["columns"]) == 1
        and info["columns"][0] in COLUMNS
        and name not in KEEP
    ]


def drop(apps, schema_editor):
    for name in _redundant(schema_editor.connection):
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def recreate(apps, schema_editor):
    for column in COLUMNS:
        name = schema_editor._create_index_name(TABLE, [column])
        schema_editor.execute(f"CREATE INDEX {name} ON {TABLE} ({column})")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0008_hash_chain")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="account",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=PROTECT,
                        related_name="entries",
                        to="ledger.account",
                    ),
                ),
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="invoice",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=PROTECT,
                        related_name="entries",
                        to="ledger.invoice",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop, recreate)],
        )
    ]
