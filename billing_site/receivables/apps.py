from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ReceivablesConfig(AppConfig):
    default = True
    name = "billing_site.receivables"
    label = "receivables"
    verbose_name = "Receivables"


class BillfoldAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with Billfold's site as ``admin.site``: the finance
    overview on its home page and the aged receivables report among its URLs
    (``billing_site.receivables.site``). Every model admin registers on it as usual."""

    default = False
    default_site = "billing_site.receivables.site.BillfoldAdminSite"
