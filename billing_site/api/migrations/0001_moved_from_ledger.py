"""API keys and idempotency records move from the ledger app to the API app.

State only: the tables (``ledger_apikey``, its two many-to-many tables and
``ledger_idempotencyrecord``) and their rows stay where they are; the models now say so
with ``db_table``. Their content types move too, so the permissions staff roles hold
on them keep their ids.
"""

from django.db import migrations, models

MOVED = ("apikey", "idempotencyrecord")


def move_content_types(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="ledger", model__in=MOVED).update(app_label="api")


def restore_content_types(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="api", model__in=MOVED).update(app_label="ledger")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("ledger", "0005_sqlite_safe_sum_checks"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ApiKey",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("name", models.CharField(max_length=100, unique=True)),
                        ("prefix", models.CharField(editable=False, max_length=16, unique=True)),
                        ("key_hash", models.CharField(editable=False, max_length=64)),
                        (
                            "scopes",
                            models.JSONField(
                                default=list,
                                help_text="Any of: read, write, payments, wallets, erp",
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("revoked_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "last_used_at",
                            models.DateTimeField(blank=True, editable=False, null=True),
                        ),
                        (
                            "accounts",
                            models.ManyToManyField(
                                blank=True,
                                help_text="Restrict the key to these accounts (with the groups below). Empty: all.",
                                related_name="+",
                                to="ledger.account",
                            ),
                        ),
                        (
                            "groups",
                            models.ManyToManyField(
                                blank=True,
                                help_text="Restrict the key to the accounts of these groups. Empty: all.",
                                related_name="+",
                                to="ledger.accountgroup",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "ledger_apikey",
                        "verbose_name": "API key",
                        "ordering": ["name"],
                    },
                ),
                migrations.CreateModel(
                    name="IdempotencyRecord",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "client",
                            models.CharField(help_text="'key:<id>' of the API key.", max_length=64),
                        ),
                        ("key", models.CharField(max_length=255)),
                        ("request_hash", models.CharField(max_length=64)),
                        ("method", models.CharField(max_length=8)),
                        ("path", models.CharField(max_length=500)),
                        ("status_code", models.PositiveSmallIntegerField()),
                        ("response_body", models.TextField()),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        "db_table": "ledger_idempotencyrecord",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(fields=["created_at"], name="idempotency_created")
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("client", "key"), name="idempotency_client_key"
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("status_code__gte", 100), ("status_code__lt", 600)
                                ),
                                name="idempotency_status_http",
                            ),
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
