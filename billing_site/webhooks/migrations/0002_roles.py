"""Re-apply the staff roles with the webhooks app's permissions: billing admins manage
endpoints and see deliveries; clerks and auditors do not see them (secrets, every
account's events)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from payments.roles import ensure_roles

    ensure_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_endpoints_deliveries"),
        ("api", "0003_roles_login_attempts"),
        ("payments", "0009_mandates"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
