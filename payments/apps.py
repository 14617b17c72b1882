from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        from wallets.services import alerts

        from . import checks  # noqa: F401 - registers the system checks
        from .tasks import enqueue_auto_top_up

        alerts.on_low_balance(enqueue_auto_top_up)  # automatic top-ups on a crossing
