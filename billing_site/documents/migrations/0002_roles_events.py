"""Re-apply the staff roles now that the events app (the outbox) has models: every role
may view events (its admin is read-only); here, in the composition layer, because the
events app sits below ``payments`` and may not import its roles."""

from django.db import migrations


def forwards(apps, schema_editor):
    from payments.roles import ensure_roles

    ensure_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0001_receipt_emails"),
        ("events", "0002_event_append_only"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
