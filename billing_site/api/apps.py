from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API: API keys, idempotency records, and the resources under /api/v1/."""

    name = "billing_site.api"
    label = "api"
    verbose_name = "API access"
