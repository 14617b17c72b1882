"""Re-apply the staff roles now that API keys have their own app: billing admins keep
every API-key permission; clerks and auditors no longer see API keys."""

from django.db import migrations


def forwards(apps, schema_editor):
    from payments.roles import ensure_roles

    ensure_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_moved_from_ledger"),
        ("ledger", "0006_api_keys_moved_to_api"),
        ("payments", "0006_allocation_created_at"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
