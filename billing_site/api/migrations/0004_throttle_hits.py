"""The throttles' shared counters (``billing_site.api.throttle_store``): an UNLOGGED
table on PostgreSQL (no WAL, so counting a request waits for no disk flush; emptied
after a crash, which only forgets recent counts). Not a model: only raw SQL touches it.
Nothing on other databases (SQLite counts in Django's cache)."""

from django.db import migrations

CREATE = """
CREATE UNLOGGED TABLE IF NOT EXISTS api_throttle_hits (
    ident varchar(255) PRIMARY KEY,
    hits double precision[] NOT NULL,
    allowed boolean NOT NULL
)
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TABLE IF EXISTS api_throttle_hits")


class Migration(migrations.Migration):
    dependencies = [("api", "0003_roles_login_attempts")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
