"""The OpenAPI schema validates, and schemathesis fuzzes every operation in-process
(WSGI) with a key holding every scope: no 5xx, every response conforms to the schema
(status codes, content type, body). Bounded examples keep it to about a minute."""

import itertools

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from billing_site.api.models import ALL_SCOPES, ApiKey
from ledger import services as ledger
from ledger.services import LineSpec
from payments import services as pay
from wallets import services as wallets

EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# The schema exactly as /api/v1/schema/ serves it, loaded without a request (the
# Host check applies to requests: the ``world`` fixture allows the test client's).
schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()


def test_schema_is_valid_openapi():
    generated = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(generated)  # raises on an invalid OpenAPI 3 document
    paths = generated["paths"]
    assert "/api/v1/accounts/{id}/statement/" in paths
    assert "/api/v1/wallets/{id}/drawdowns/" in paths
    money = generated["components"]["schemas"]["Invoice"]["properties"]["total"]
    assert money["properties"]["amount"]["type"] == "string"


@pytest.fixture
def wsgi_calls_keep_the_test_connection():
    """Calling the WSGI app directly fires request_started/finished, which close the
    database connection — and with it the test's transaction. Django's test client
    disconnects them the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, settings, wsgi_calls_keep_the_test_connection):
    """Real objects the fuzzer is steered to half of the time (ids in paths and bodies)."""
    settings.ALLOWED_HOSTS = ["*"]
    actor = ledger.system_actor("fuzz")
    group = ledger.create_group(name="Fuzz group", actor=actor)
    account = ledger.create_account(
        name="Fuzz", email="fuzz@example.test", currency="GBP", actor=actor, group=group
    )
    pay.record_payment(account=account, amount="500.00", method="cash", actor=actor)
    draft = ledger.create_invoice(account=account, actor=actor, lines=[LineSpec("A", "1", "40")])
    issued = pay.issue_invoice(
        invoice=ledger.create_invoice(
            account=account, actor=actor, lines=[LineSpec("B", "1", "900")]
        ),
        actor=actor,
    )
    wallet = wallets.create_wallet(account=account, name="Fuzz wallet", actor=actor)
    wallets.top_up(wallet=wallet, amount="1000.00", actor=actor, grant=True)
    pay.apply_wallet(wallet=wallet, invoice=issued, amount="10.00", actor=actor)
    payment = issued.payments.order_by("-id").first()
    _key, raw = ApiKey.create_with_key(name="fuzzer", scopes=ALL_SCOPES)
    ids = {
        "accounts": [account.pk],
        "account-groups": [group.pk],
        "invoices": [draft.pk, issued.pk],
        "payments": [payment.pk],
        "wallets": [wallet.pk],
        "credit-memos": [issued.credit_memos.first().pk],
    }
    return {"raw": raw, "ids": ids, "turn": itertools.count()}


def steer(case, world):
    """Every other example: point path ids and body references at real objects."""
    if next(world["turn"]) % 2:
        return
    resource = case.operation.path.split("/")[3]
    if "id" in (case.path_parameters or {}) and resource in world["ids"]:
        choices = world["ids"][resource]
        case.path_parameters["id"] = choices[next(world["turn"]) % len(choices)]
    if isinstance(case.body, dict):
        for field, resource in (("account", "accounts"), ("invoice", "invoices")):
            if field in case.body and isinstance(case.body[field], int):
                case.body[field] = world["ids"][resource][-1]


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_fuzz(case, world):
    steer(case, world)
    case.call_and_validate(headers={"Authorization": f"Bearer {world['raw']}"}, checks=CHECKS)
