from django.db import migrations


def forwards(apps, schema_editor):
    from payments.roles import ensure_roles

    ensure_roles(apps)  # give the roles the wallets app's permissions too


class Migration(migrations.Migration):
    dependencies = [("payments", "0003_payment_wallet"), ("wallets", "0003_wallet_permissions")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
