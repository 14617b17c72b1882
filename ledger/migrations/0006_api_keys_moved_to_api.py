"""API keys and idempotency records now belong to the API app (``billing_site.api``,
label ``api``): removed from the ledger's state only. The tables stay; see
``api.0001_moved_from_ledger``, which takes them over."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0005_sqlite_safe_sum_checks"),
        ("api", "0001_moved_from_ledger"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ApiKey"),
                migrations.DeleteModel(name="IdempotencyRecord"),
            ],
        ),
    ]
