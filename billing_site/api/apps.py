from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API: API keys, idempotency records, and the resources under /api/v1/."""

    name = "billing_site.api"
    label = "api"
    verbose_name = "API access"

    def ready(self):
        from billing_site.api.event_renderers import register_all

        register_all()  # events' payloads show objects as the API does (events.rendering)
