from django.db import migrations

from ledger.db_triggers import append_only


class Migration(migrations.Migration):
    dependencies = [("wallets", "0001_initial")]
    operations = [append_only("wallets_wallettransaction")]
