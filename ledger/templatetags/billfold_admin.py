"""The admin index organised for the work: ``{% admin_sections app_list as sections %}``.

Daily work first (accounts, groups, invoices, payments, wallets), then the records the
services write (entries, transitions, gateway events, wallet transactions, memos...),
then settings (API keys, logins, users; the jobs run are records) — not
Django's alphabetical list of apps.
Models are named by ``app_label.ModelName`` strings: no app is imported.
"""

from django import template

register = template.Library()

DAILY = (
    "ledger.Account",
    "ledger.AccountGroup",
    "ledger.Invoice",
    "payments.Payment",
    "wallets.Wallet",
    "payments.BillingRun",  # where staff close a billing period
)
# Configured by staff, not written by the services: with the other settings.
SETTING_MODELS = ("payments.ReminderLevel",)
RECORD_APPS = ("ledger", "payments", "wallets", "documents", "events", "django_tasks_database")
RECORD_MODELS = ("webhooks.WebhookDelivery", "webhooks.WebhookAttempt")
LABELS = {"payments.PaymentBatch": "Group payments"}


def _key(model: dict) -> str:
    meta = model["model"]._meta
    return f"{meta.app_label}.{meta.object_name}"


def _is_record(model: dict) -> bool:
    if model["key"] in SETTING_MODELS:
        return False
    return model["app_label"] in RECORD_APPS or model["key"] in RECORD_MODELS


@register.simple_tag
def admin_sections(app_list) -> list[dict]:
    """``app_list`` (Django's, already filtered by the user's permissions) as sections."""
    models = []
    for app in app_list or []:
        for model in app["models"]:
            key = _key(model)
            models.append(
                {
                    **model,
                    "key": key,
                    "app_label": app["app_label"],
                    "name": LABELS.get(key, model["name"]),
                }
            )
    daily = sorted((m for m in models if m["key"] in DAILY), key=lambda m: DAILY.index(m["key"]))
    records = [m for m in models if m["key"] not in DAILY and _is_record(m)]
    settings = [m for m in models if m["key"] not in DAILY and not _is_record(m)]
    sections = [
        {"name": "Daily work", "slug": "daily", "models": daily},
        {"name": "Records", "slug": "records", "models": records},
        {"name": "Settings", "slug": "settings", "models": settings},
    ]
    return [s for s in sections if s["models"]]
