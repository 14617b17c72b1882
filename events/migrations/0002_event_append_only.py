"""Events are append-only in the database too: on PostgreSQL a row trigger refuses
UPDATE and DELETE of an event (TRUNCATE, used by test teardown, is another statement);
on SQLite an UPDATE trigger (DELETE stays possible there only for Django's test flush;
the model, its queryset and the admin refuse it). Delivery state lives in other tables.
The guard is the ledger's (``events.db_triggers``)."""

from django.db import migrations

from events.db_triggers import append_only


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial")]
    operations = [append_only("events_event")]
