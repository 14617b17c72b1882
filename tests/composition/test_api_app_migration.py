"""Issue 10: API keys and idempotency records move from the ledger app to the API app
by state-only migrations. Data written before the move must keep working after it:
the key still authenticates, a stored write still replays, and the permissions staff
roles held on the models follow them to the new app label.

The test migrates the database back to the schema before the move, writes the rows
with the *historical* models (as the old code would have), migrates forward to the
latest schema and then goes through the HTTP API like an integration would.
"""

import hashlib
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from billing_site.api.models import ApiKey, IdempotencyRecord, hash_key
from ledger.models import Account
from payments.roles import AUDITOR, BILLING_ADMIN, BILLING_CLERK

# The schema before the move: the ledger still owns ApiKey and IdempotencyRecord and
# the api app has no migration applied.
BEFORE = [
    ("ledger", "0005_sqlite_safe_sum_checks"),
    ("payments", "0006_allocation_created_at"),
    ("wallets", "0004_sqlite_safe_sum_checks"),
    ("api", None),
]
STATE_BEFORE = [target for target in BEFORE if target[1] is not None]

RAW_KEY = "bf_legacy01_written-before-the-api-app-existed"
IDEMPOTENCY_KEY = "crm-sync-2041"
CREATE_BODY = {"name": "Stored Ltd", "email": "stored@example.test", "currency": "GBP"}

pytestmark = pytest.mark.django_db(transaction=True)


def legacy_fingerprint(method: str, path: str, body: dict) -> str:
    """The request hash the API stored before the move (``idempotency.fingerprint``):
    SHA-256 of ``METHOD\\npath\\n`` and the canonical JSON body. Written out here, not
    imported, so a change to the formula that would orphan stored records fails."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256()
    digest.update(f"{method}\n{path}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def ensure_auth_rows() -> None:
    """The key models' content types and a permission, as ``migrate`` leaves them.

    A transactional test's flush recreates them through ``post_migrate``, except after
    ``payments.roles.ensure_roles()`` ran on the global registry in this process (the
    ``seed_demo`` test): it leaves every ``AppConfig.models_module`` None, and
    ``post_migrate`` then skips every app. Created here so this test does not depend on
    which tests ran before it."""
    key_type = ContentType.objects.get_for_model(ApiKey)
    ContentType.objects.get_for_model(IdempotencyRecord)
    Permission.objects.get_or_create(
        content_type=key_type, codename="view_apikey", defaults={"name": "Can view API key"}
    )


def write_rows_before_the_move(apps) -> dict:
    """What the old code left in the database: two accounts (one created by an
    idempotent POST whose response is stored), a key, its record, a staff group
    holding a permission on the key model."""
    OldAccount = apps.get_model("ledger", "Account")
    OldApiKey = apps.get_model("ledger", "ApiKey")
    OldRecord = apps.get_model("ledger", "IdempotencyRecord")

    listed = OldAccount.objects.create(name="Acme Ltd", email="acme@example.test", currency="GBP")
    created = OldAccount.objects.create(**CREATE_BODY)
    key = OldApiKey.objects.create(
        name="legacy CRM",
        prefix="legacy01",
        key_hash=hash_key(RAW_KEY),
        scopes=["read", "write"],
    )
    stored_body = json.dumps(
        {
            "id": created.pk,
            "name": "Stored Ltd",
            "email": "stored@example.test",
            "currency": "GBP",
            "external_ref": None,
            "group": None,
            "erp_managed": False,
            "payment_terms_days": 14,
            "is_active": True,
            "balance": {"amount": "0.00", "currency": "GBP"},
            "last_seq": 0,
            "last_posted_at": None,
        }
    )
    OldRecord.objects.create(
        client=f"key:{key.pk}",
        key=IDEMPOTENCY_KEY,
        request_hash=legacy_fingerprint("POST", "/api/v1/accounts/", CREATE_BODY),
        method="POST",
        path="/api/v1/accounts/",
        status_code=201,
        response_body=stored_body,
    )
    # The content type still says "ledger": permissions hang on its id.
    old_type = ContentType.objects.get(app_label="ledger", model="apikey")
    viewers = Group.objects.create(name="Key viewers (before the move)")
    viewers.permissions.add(Permission.objects.get(content_type=old_type, codename="view_apikey"))
    return {
        "listed": listed.pk,
        "created": created.pk,
        "key": key.pk,
        "content_type": old_type.pk,
        "group": viewers.pk,
        "stored_body": stored_body,
    }


def role_permissions(role: str, content_type: ContentType) -> set[str]:
    held = Group.objects.get(name=role).permissions.filter(content_type=content_type)
    return set(held.values_list("codename", flat=True))


def check_rows(before: dict) -> None:
    """The rows are the new models' now, unchanged."""
    key = ApiKey.objects.get()
    assert (key.pk, key.name, key.prefix, key.scopes) == (
        before["key"],
        "legacy CRM",
        "legacy01",
        ["read", "write"],
    )
    assert key.check_key(RAW_KEY) and key.is_active
    record = IdempotencyRecord.objects.get()
    assert (record.client, record.key, record.status_code) == (
        f"key:{key.pk}",
        IDEMPOTENCY_KEY,
        201,
    )


def check_permissions(before: dict) -> None:
    """The content type moved with its id, so the group's permission is now
    ``api.view_apikey``; ``api.0002`` re-applied the roles (API keys: billing admins)."""
    moved = ContentType.objects.get(pk=before["content_type"])
    assert (moved.app_label, moved.model) == ("api", "apikey")
    assert not ContentType.objects.filter(
        app_label="ledger", model__in=["apikey", "idempotencyrecord"]
    ).exists()
    assert {"view_apikey", "change_apikey"} <= role_permissions(BILLING_ADMIN, moved)
    assert role_permissions(BILLING_CLERK, moved) == role_permissions(AUDITOR, moved) == set()
    staff = get_user_model().objects.create_user(username="keeper", password="x", is_staff=True)
    staff.groups.add(before["group"])
    assert staff.has_perm("api.view_apikey")
    admin = Client()
    admin.force_login(staff)
    page = admin.get("/admin/api/apikey/")
    assert page.status_code == 200 and "legacy CRM" in page.content.decode()


def check_api(before: dict) -> None:
    """The key still authenticates; a retry of the stored write replays it."""
    api = Client(HTTP_AUTHORIZATION=f"Bearer {RAW_KEY}")
    listing = api.get("/api/v1/accounts/")
    assert listing.status_code == 200, listing.content
    names = {row["name"]: row["id"] for row in listing.json()["results"]}
    assert names == {"Acme Ltd": before["listed"], "Stored Ltd": before["created"]}

    replay = api.post(
        "/api/v1/accounts/",
        data=json.dumps(CREATE_BODY),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=IDEMPOTENCY_KEY,
    )
    assert replay.status_code == 201, replay.content
    assert replay.content.decode() == before["stored_body"]
    assert replay["Idempotent-Replayed"] == "true"
    assert Account.objects.count() == 2  # nothing created again
    assert IdempotencyRecord.objects.count() == 1

    reused = api.post(  # the same key with another body is still recognised as taken
        "/api/v1/accounts/",
        data=json.dumps({**CREATE_BODY, "name": "Another Ltd"}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=IDEMPOTENCY_KEY,
    )
    assert reused.status_code == 422
    assert reused.json()["error"] == "idempotency_key_reused"
    assert Account.objects.count() == 2


def test_keys_and_stored_writes_survive_the_move_to_the_api_app():
    ensure_auth_rows()
    try:
        executor = migrate(BEFORE)
        old_apps = executor.loader.project_state(STATE_BEFORE).apps
        applied = MigrationRecorder(connection).applied_migrations()
        assert ("ledger", "0006_api_keys_moved_to_api") not in applied
        assert not [name for name in applied if name[0] == "api"]
        before = write_rows_before_the_move(old_apps)
    finally:
        migrate(latest())  # whatever happened: later tests need the latest schema
    ContentType.objects.clear_cache()
    check_rows(before)
    check_permissions(before)
    check_api(before)


def test_the_database_is_back_at_the_latest_schema():
    """Runs after the migration test (file order): later tests need every migration."""
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
