"""System checks of the payments app.

``payments.E001``: with DEBUG off, every configured gateway (``BILLFOLD_GATEWAYS``) has
a webhook secret that is neither missing, short nor well known. It runs with every
``manage.py check`` (``--deploy`` included) and before ``migrate`` and ``runserver``.
"""

from django.conf import settings
from django.core.checks import Error, Tags, register

from .gateways.trust import secret_problem

HINT = (
    "Set the gateway's secret (the sandbox's: SANDBOX_WEBHOOK_SECRET) to the long random "
    "value shared with the gateway, e.g. the output of "
    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
)


@register(Tags.security)
def gateway_secrets(app_configs=None, **kwargs) -> list[Error]:
    if settings.DEBUG:
        return []
    errors = []
    for name, conf in (getattr(settings, "BILLFOLD_GATEWAYS", None) or {}).items():
        problem = secret_problem(conf.get("secret"))
        if problem:
            errors.append(
                Error(
                    f"Gateway {name!r}: its webhook secret {problem}; anyone could sign "
                    "its events (a forged payment.succeeded would mark invoices paid).",
                    hint=HINT,
                    obj="settings.BILLFOLD_GATEWAYS",
                    id="payments.E001",
                )
            )
    return errors
