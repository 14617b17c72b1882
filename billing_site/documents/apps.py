from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    """Documents: one guarded PDF renderer for statements, invoices and receipts."""

    name = "billing_site.documents"
    label = "documents"
    verbose_name = "Documents"
