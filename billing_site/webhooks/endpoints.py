"""Managing webhook endpoints (admin and API go through these): create with a secret
shown once, change, enable/disable, rotate the secret. One ``transaction.atomic()``
per operation; the endpoint row is locked before it is changed."""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from events.models import EventType
from ledger.errors import InvalidInput, StateConflict

from .models import WebhookEndpoint, new_secret

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def local_allowed() -> bool:
    return bool(getattr(settings, "BILLFOLD_WEBHOOK_HTTP_LOCAL", settings.DEBUG))


def _private_literal(host: str) -> bool:
    """An address typed as the host that is not a public one (10.x, 192.168.x, 127.x,
    169.254.x, ::1, ...). Names are checked when sending, after resolution."""
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_global
    except ValueError:
        return False


def clean_url(url: str) -> str:
    """``https://`` always; ``http://`` only to this machine (127.0.0.1, localhost) and
    only with ``BILLFOLD_WEBHOOK_HTTP_LOCAL`` on (the default with DEBUG; the tests)."""
    url = (url or "").strip()
    parts = urlsplit(url)
    local = local_allowed()
    if (
        parts.hostname
        and _private_literal(parts.hostname)
        and not (local and parts.hostname in LOCAL_HOSTS)
    ):
        raise InvalidInput(
            f"url: {parts.hostname} is not a public address; webhooks go to the internet, "
            "never to this network's own machines.",
            field="url",
        )
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in LOCAL_HOSTS and local:
        return url
    raise InvalidInput(
        f"url: {url!r} is not allowed; a webhook endpoint must be an https:// URL "
        "(http:// only to 127.0.0.1 with DEBUG or BILLFOLD_WEBHOOK_HTTP_LOCAL on).",
        field="url",
    )


def clean_event_types(types) -> list[str]:
    if not isinstance(types, list | tuple):
        raise InvalidInput("event_types: a list of event types.", field="event_types")
    unknown = [t for t in types if t not in EventType.values]
    if unknown:
        raise InvalidInput(
            f"event_types: unknown {unknown}; any of {EventType.values}.", field="event_types"
        )
    return sorted(set(types))


def _set_restriction(endpoint, accounts, groups) -> None:
    if accounts is not None:
        endpoint.accounts.set(accounts)
    if groups is not None:
        endpoint.groups.set(groups)


def create_endpoint(
    *, url, event_types=(), all_events=False, description="", accounts=(), groups=()
) -> tuple[WebhookEndpoint, str]:
    """A new enabled endpoint and its signing secret (returned here, shown once)."""
    with transaction.atomic():
        endpoint = WebhookEndpoint(
            url=clean_url(url),
            event_types=clean_event_types(list(event_types)),
            all_events=bool(all_events),
            description=description or "",
            secret=new_secret(),
        )
        endpoint.full_clean(exclude=["accounts", "groups"])
        endpoint.save()
        _set_restriction(endpoint, accounts, groups)
        return endpoint, endpoint.secret


def _lock(endpoint) -> WebhookEndpoint:
    pk = endpoint.pk if isinstance(endpoint, WebhookEndpoint) else int(endpoint)
    return WebhookEndpoint.objects.select_for_update(no_key=True).get(pk=pk)


def update_endpoint(endpoint, *, accounts=None, groups=None, **fields) -> WebhookEndpoint:
    """Change ``url``, ``event_types``, ``all_events``, ``description`` and/or the
    restriction (``accounts``/``groups``: None leaves it)."""
    with transaction.atomic():
        endpoint = _lock(endpoint)
        if "url" in fields:
            endpoint.url = clean_url(fields["url"])
        if "event_types" in fields:
            endpoint.event_types = clean_event_types(fields["event_types"])
        if "all_events" in fields:
            endpoint.all_events = bool(fields["all_events"])
        if "description" in fields:
            endpoint.description = fields["description"] or ""
        endpoint.save()
        _set_restriction(endpoint, accounts, groups)
        return endpoint


def disable_endpoint(endpoint, *, reason: str, now=None, auto=False) -> WebhookEndpoint:
    """Stop delivering to it (its pending deliveries wait; new events are not fanned out
    to it). 409 when it already is disabled."""
    with transaction.atomic():
        endpoint = _lock(endpoint)
        if not endpoint.enabled:
            raise StateConflict(f"Webhook endpoint {endpoint.pk} is already disabled.")
        endpoint.enabled = False
        endpoint.disabled_at = now or timezone.now()
        endpoint.disabled_reason = (reason or "disabled by staff")[:255]
        endpoint.auto_disabled = auto
        endpoint.save()
        return endpoint


def enable_endpoint(endpoint) -> WebhookEndpoint:
    """Deliver again: its pending deliveries resume; failures are counted afresh."""
    with transaction.atomic():
        endpoint = _lock(endpoint)
        if endpoint.enabled:
            raise StateConflict(f"Webhook endpoint {endpoint.pk} is already enabled.")
        endpoint.enabled, endpoint.disabled_at, endpoint.disabled_reason = True, None, ""
        endpoint.auto_disabled, endpoint.failing_since = False, None
        endpoint.save()
        return endpoint


def rotate_secret(endpoint, *, now=None) -> tuple[WebhookEndpoint, str]:
    """A new secret (returned, shown once); deliveries sent from now on use it."""
    with transaction.atomic():
        endpoint = _lock(endpoint)
        endpoint.secret = new_secret()
        endpoint.secret_rotated_at = now or timezone.now()
        endpoint.save()
        return endpoint, endpoint.secret


def delete_endpoint(endpoint) -> None:
    """Remove it with its deliveries and their attempts (disable it to keep the log)."""
    with transaction.atomic():
        _lock(endpoint).delete()
