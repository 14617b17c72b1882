from django.apps import AppConfig


class EventsConfig(AppConfig):
    """Business events (the outbox): append-only, one per effect, per-account sequence."""

    name = "events"
    verbose_name = "Events"
