from django.db import migrations


def roles(apps, schema_editor):
    from payments.roles import ensure_roles

    ensure_roles(apps)  # billing admins start and resume billing runs; every role views them


class Migration(migrations.Migration):
    dependencies = [("payments", "0013_billing_runs")]

    operations = [migrations.RunPython(roles, migrations.RunPython.noop)]
