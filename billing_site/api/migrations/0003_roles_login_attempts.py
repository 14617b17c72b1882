"""Re-apply the staff roles now that django-axes records login attempts: billing admins
see them and unlock a login by deleting its attempts; clerks and auditors do not see
them (usernames and addresses of people trying to log in)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from payments.roles import ensure_roles

    ensure_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0002_roles_api_keys"),
        ("axes", "0010_accessattemptexpiration"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
