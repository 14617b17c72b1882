from django.db import migrations


def roles(apps, schema_editor):
    from payments.roles import ensure_roles

    ensure_roles(apps)  # billing clerks send reminders now (levels, exclusions: admins)


class Migration(migrations.Migration):
    dependencies = [("payments", "0014_roles_billing_runs")]

    operations = [migrations.RunPython(roles, migrations.RunPython.noop)]
