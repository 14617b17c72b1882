from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The member portal: login, statement, invoices, wallets, receipts, payment links."""

    name = "billing_site.portal"
    label = "portal"
    verbose_name = "Member portal"
