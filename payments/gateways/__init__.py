"""Payment gateways, chosen per payment method in settings (``BILLFOLD_GATEWAYS``)."""

from django.conf import settings
from django.utils.module_loading import import_string

from .base import Event, Gateway, Started, WebhookRejected

__all__ = ["Event", "Gateway", "Started", "WebhookRejected", "by_name", "for_method"]


def _configured() -> dict:
    return getattr(settings, "BILLFOLD_GATEWAYS", {})


def by_name(name: str) -> Gateway | None:
    conf = _configured().get(name)
    if conf is None:
        return None
    return import_string(conf["class"])(name=name, secret=conf["secret"])


def for_method(method: str) -> Gateway:
    for name, conf in _configured().items():
        if method in conf.get("methods", ()):
            return by_name(name)
    raise LookupError(f"No gateway is configured for {method} payments.")
