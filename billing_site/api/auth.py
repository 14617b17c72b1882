"""Who is calling: an integration with ``Authorization: Bearer <key>``, or a member's
own session (read-only, their own accounts)."""

from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from billing_site.api.models import ApiKey
from billing_site.api.throttling import failed_authentication_guard
from ledger.services import Actor, user_actor

LAST_USED_RESOLUTION = timedelta(seconds=60)  # one UPDATE a minute per key, not per call


def _lookup_sql() -> str:
    """One statement per request: the key by its prefix, and whether it is restricted to
    accounts or groups (``restricted``), so an unrestricted key costs no further query
    for visibility (``permissions.visible_accounts``). Raw SQL: the ORM's query building
    cost more than the round trip (about 0.4 ms of 0.5 ms)."""
    q = connection.ops.quote_name
    restrictions = " OR ".join(
        f"EXISTS (SELECT 1 FROM {q(through._meta.db_table)} r WHERE r.{q('apikey_id')} = k.id)"
        for through in (ApiKey.accounts.through, ApiKey.groups.through)
    )
    return (
        f"SELECT k.*, ({restrictions}) AS {q('restricted')} "
        f"FROM {q(ApiKey._meta.db_table)} k WHERE k.{q('prefix')} = %s"
    )


def find_key(prefix: str) -> ApiKey | None:
    """The key with ``prefix`` (``key.restricted`` set), or None."""
    for key in ApiKey.objects.raw(_lookup_sql(), [prefix]):
        key.restricted = bool(key.restricted)
        return key
    return None


@dataclass(frozen=True)
class ApiClient:
    """``request.user`` for a request signed with an API key (``request.auth`` is the key)."""

    key: ApiKey
    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None

    def get_username(self) -> str:
        return self.key.label

    def has_perm(self, perm, obj=None) -> bool:  # Django permissions are for staff users
        return False


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != self.keyword.lower():
            return None
        # 429 once this address has failed too often; every failure below is counted.
        with failed_authentication_guard(request):
            return self.authenticate_key(header)

    def authenticate_key(self, header):
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Authorization header: expected 'Bearer <key>' with one key and no spaces."
            )
        raw = header[1]
        parts = raw.split("_", 2)
        key = None
        if len(parts) == 3 and len(parts[1]) <= 16:
            key = find_key(parts[1])
        if key is None or not key.check_key(raw):
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if not key.is_active:
            raise exceptions.AuthenticationFailed("This API key was revoked.")
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return ApiClient(key=key), key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="billfold"'


class MemberSessionAuthentication(authentication.SessionAuthentication):
    """A logged-in member's session: read-only (the permission class refuses writes
    before CSRF would matter)."""

    def enforce_csrf(self, request):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        super().enforce_csrf(request)


def api_key_of(request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


def actor_for(request) -> Actor:
    """The ``Actor`` recorded on postings and transitions for this request."""
    key = api_key_of(request)
    if key is not None:
        return Actor(user=None, label=key.label)
    return user_actor(request.user)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "billing_site.api.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key created in the admin (API keys), sent as "
            "`Authorization: Bearer bf_xxxxxxxx_...`.",
        }


class MemberSessionScheme(OpenApiAuthenticationExtension):
    target_class = "billing_site.api.auth.MemberSessionAuthentication"
    name = "MemberSession"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "A member's own login session: read-only, own accounts only.",
        }
