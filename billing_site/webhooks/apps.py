from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "billing_site.webhooks"
    label = "webhooks"
    verbose_name = "Outgoing webhooks"
