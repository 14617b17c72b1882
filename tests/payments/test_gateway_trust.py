"""Gateway trust (issue 12): no gateway runs on a missing or well-known secret with DEBUG
off, the sandbox only when it is enabled, and its test cards only where it takes cards.

The settings are read once per process: the ``check`` tests run ``manage.py`` in a
fresh one with the production settings (as tests/test_settings.py does).
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from payments import gateways
from payments import services as pay
from payments.gateways.sandbox import CARD_SUCCESS, SandboxGateway
from payments.gateways.trust import secret_problem
from payments.models import GatewayEvent, Payment

from .conftest import after_commit, snapshot, waiting_payment
from .gateway_stubs import RealCardGateway, use_gateway

ROOT = Path(__file__).resolve().parents[2]
URL = "/api/v1/gateways/sandbox/webhook/"
OLD_DEFAULT = "sandbox-webhook-secret"
CLEARED = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "SECURE_SSL_REDIRECT",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    # The test settings set both for this process; a deployment sets them itself.
    "BILLFOLD_SANDBOX_GATEWAY",
    "SANDBOX_WEBHOOK_SECRET",
)


def manage(*args, **env_vars):
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env["DJANGO_SETTINGS_MODULE"] = "billing_site.settings"
    env.update(env_vars)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production(tmp_path, **env_vars):
    return {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "billfold.example",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **env_vars,
    }


def check_deploy(tmp_path, **env_vars):
    return manage(
        "check", "--deploy", "--fail-level", "WARNING", **production(tmp_path, **env_vars)
    )


@pytest.mark.parametrize(
    "secret", [None, "", OLD_DEFAULT, "changeme", "short-but-random-9f2c", "a" * 40]
)
def test_check_deploy_fails_with_debug_off_and_a_missing_or_weak_sandbox_secret(tmp_path, secret):
    env = {"BILLFOLD_SANDBOX_GATEWAY": "1"}
    if secret is not None:
        env["SANDBOX_WEBHOOK_SECRET"] = secret
    result = check_deploy(tmp_path, **env)
    assert result.returncode != 0
    assert "payments.E001" in result.stdout + result.stderr
    assert "Gateway 'sandbox'" in result.stdout + result.stderr


def test_check_deploy_passes_with_a_proper_secret(tmp_path):
    result = check_deploy(
        tmp_path, BILLFOLD_SANDBOX_GATEWAY="1", SANDBOX_WEBHOOK_SECRET=secrets.token_urlsafe(48)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def gateways_configured(tmp_path, **env_vars) -> list[str]:
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; import json; "
        "print(json.dumps(sorted(settings.BILLFOLD_GATEWAYS)))",
        **production(tmp_path, **env_vars),
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_sandbox_is_configured_only_when_enabled(tmp_path):
    assert gateways_configured(tmp_path) == []  # DEBUG off: no sandbox unless asked for
    assert gateways_configured(tmp_path, BILLFOLD_SANDBOX_GATEWAY="0", DEBUG="1") == []
    assert gateways_configured(tmp_path, DEBUG="1") == ["sandbox"]  # the demo
    assert gateways_configured(
        tmp_path, BILLFOLD_SANDBOX_GATEWAY="1", SANDBOX_WEBHOOK_SECRET=secrets.token_hex(32)
    ) == ["sandbox"]


def test_the_demo_keeps_its_sandbox_without_any_setting(tmp_path):
    """DEBUG on (``make run``): the sandbox with its development secret, no error."""
    result = manage("check", **production(tmp_path, DEBUG="1"))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "secret, problem",
    [
        (None, "is missing"),
        ("   ", "is missing"),
        (OLD_DEFAULT, "well-known"),
        ("Sandbox-Webhook-Secret", "well-known"),
        ("password", "well-known"),
        ("x" * 31, "shorter than 32"),
        ("ab" * 20, "different characters"),
        ("q8Vw-3ZbN0rT5yLk_2HdXe7MfA9sJcPu", None),
    ],
)
def test_secret_problem(secret, problem):
    found = secret_problem(secret)
    assert (found is None) if problem is None else (problem in found)


# --- the webhook with a forged or untrusted signature -----------------------------------


@pytest.fixture
def processing(account, issue, actor):
    invoice = issue(account, "75.00")
    payment = waiting_payment(invoice)
    with after_commit():
        pay.start_card_payment(payment=payment, card_number=CARD_SUCCESS, actor=actor)
    return Payment.objects.get(pk=payment.pk)


def forged_success(payment, secret: str):
    forger = SandboxGateway(name="sandbox", secret=secret)
    raw = json.dumps(
        {
            "id": "evt_forged",
            "type": "payment.succeeded",
            "payment_reference": payment.gateway_reference,
        }
    ).encode()
    return Client().post(
        URL, raw, content_type="application/json", HTTP_BILLFOLD_SIGNATURE=forger.sign(raw)
    )


@pytest.mark.django_db
def test_a_payload_signed_with_the_old_default_is_refused_and_changes_nothing(processing):
    before = snapshot()
    answer = forged_success(processing, OLD_DEFAULT)
    assert answer.status_code == 401 and answer.json()["error"] == "signature_invalid"
    assert snapshot() == before
    assert not GatewayEvent.objects.exists()
    assert Payment.objects.get(pk=processing.pk).status == "processing"


@pytest.mark.django_db
def test_a_gateway_left_on_the_old_default_trusts_no_event(processing, settings):
    """Even deployed against the check's advice, a well-known secret authenticates no one:
    a correctly "signed" forgery is refused (401) and changes nothing."""
    settings.BILLFOLD_GATEWAYS = {
        "sandbox": {**settings.BILLFOLD_GATEWAYS["sandbox"], "secret": OLD_DEFAULT}
    }
    before = snapshot()
    answer = forged_success(processing, OLD_DEFAULT)
    assert answer.status_code == 401 and answer.json()["error"] == "gateway_untrusted"
    assert "payments.E001" in answer.json()["detail"]
    assert snapshot() == before
    assert not GatewayEvent.objects.exists()


# --- the payment-link page ---------------------------------------------------------------


@pytest.fixture
def link_page(account, issue, actor):
    invoice = issue(account, "75.00")
    link = pay.create_payment_link(invoice=invoice, actor=actor)
    return f"/pay/{pay.link_token(link)}/"


@pytest.mark.django_db
def test_test_cards_are_shown_where_the_sandbox_takes_cards(link_page):
    page = Client().get(link_page).content.decode()
    assert CARD_SUCCESS in page and "Sandbox test cards" in page


@pytest.mark.django_db
def test_no_test_cards_with_a_real_gateway(link_page, settings):
    use_gateway(settings, RealCardGateway)
    assert not isinstance(gateways.for_method("card"), SandboxGateway)
    page = Client().get(link_page).content.decode()
    assert "Pay £75.00" in page
    assert CARD_SUCCESS not in page and "test card" not in page.lower()


@pytest.mark.django_db
def test_without_a_card_gateway_the_page_says_so(link_page, settings):
    settings.BILLFOLD_GATEWAYS = {}
    client = Client()
    page = client.get(link_page).content.decode()
    assert "Card payments are not available" in page and CARD_SUCCESS not in page
    answer = client.post(link_page, {"card_number": CARD_SUCCESS})
    assert answer.status_code == 200 and "not available" in answer.content.decode()
    assert not Payment.objects.filter(status="processing").exists()
