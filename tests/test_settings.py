"""Settings read from the environment (12-factor), checked in a fresh process each time
because settings are read once at start-up."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLEARED = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "SECURE_SSL_REDIRECT",
    "TRUST_X_FORWARDED_PROTO",
    "TRUST_X_FORWARDED_FOR",
    "DB_LOCK_TIMEOUT_MS",
    "DB_STATEMENT_TIMEOUT_MS",
    # The test settings turn the sandbox gateway on with a test-only secret.
    "BILLFOLD_SANDBOX_GATEWAY",
    "SANDBOX_WEBHOOK_SECRET",
    # Set for the whole session by the browser tests; never in a deployment.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)
# The production settings, not the test suite's (pytest-django exports its module).
SETTINGS = "billing_site.settings"


def manage(*args, **env_vars):
    """Run ``manage.py`` with a clean settings environment plus ``env_vars``."""
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env["DJANGO_SETTINGS_MODULE"] = SETTINGS
    env.update(env_vars)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def strong_key():
    return secrets.token_urlsafe(64)  # ~86 characters, well past Django's 50


# The production set-ups of the README's "Deploy" section.
DEPLOYMENTS = {
    "tls-at-the-app": {},
    "behind-a-tls-proxy": {
        "DATABASE_URL": "postgres://billfold:secret@db.internal:5432/billfold",
        "TRUST_X_FORWARDED_PROTO": "1",
        "TRUST_X_FORWARDED_FOR": "1",
        "CONN_MAX_AGE": "60",
        "DB_LOCK_TIMEOUT_MS": "5000",
        "DB_STATEMENT_TIMEOUT_MS": "30000",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "DEFAULT_FROM_EMAIL": "billing@billfold.example",
        "EMAIL_HOST": "smtp.billfold.example",
        "EMAIL_PORT": "587",
        "EMAIL_USE_TLS": "1",
        "LOG_LEVEL": "INFO",
    },
}


@pytest.mark.parametrize("deployment", sorted(DEPLOYMENTS))
def test_production_settings_pass_check_deploy(tmp_path, deployment):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", **DEPLOYMENTS[deployment]}
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=strong_key(),
        ALLOWED_HOSTS="billfold.example",
        **env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_weak_secret_key_fails_check_deploy(tmp_path):
    """The gate above really gates: a short key is a warning, and warnings fail."""
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="short",
        ALLOWED_HOSTS="billfold.example",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_missing_secret_key_is_a_start_up_error():
    result = manage("check", ALLOWED_HOSTS="billfold.example")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "ImproperlyConfigured" in result.stderr


@pytest.mark.parametrize("debug", ["0", "false", ""])
def test_debug_off_values_still_need_a_secret_key(debug):
    result = manage("check", DEBUG=debug)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_debug_on_runs_without_secret_key(tmp_path):
    result = manage("check", DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert result.returncode == 0, result.stderr


SHOW = (
    "from django.conf import settings; "
    "print('ENGINE=' + settings.DATABASES['default']['ENGINE']); "
    "print('DEBUG=' + str(settings.DEBUG)); print('HOSTS=' + repr(settings.ALLOWED_HOSTS))"
)


def shown(result) -> dict:
    """The KEY=value lines printed by SHOW (the shell may print a banner too)."""
    return dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)


def test_empty_database_url_falls_back_to_sqlite():
    result = manage("shell", "-c", SHOW, SECRET_KEY=strong_key(), DATABASE_URL="")
    assert result.returncode == 0, result.stderr
    values = shown(result)
    assert values["ENGINE"] == "django.db.backends.sqlite3"
    assert values["DEBUG"] == "False"
    assert values["HOSTS"] == "[]"


def test_database_url_selects_postgresql():
    result = manage(
        "shell",
        "-c",
        SHOW,
        SECRET_KEY=strong_key(),
        DATABASE_URL="postgres://u:p@db.example:5432/billfold",
        ALLOWED_HOSTS="a.example, b.example",
    )
    assert result.returncode == 0, result.stderr
    values = shown(result)
    assert values["ENGINE"] == "django.db.backends.postgresql"
    assert values["HOSTS"] == "['a.example', 'b.example']"


PROXY = (
    "from django.conf import settings; "
    "print('PROXY=' + repr(getattr(settings, 'SECURE_PROXY_SSL_HEADER', None)))"
)


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [("", "None"), ("0", "None"), ("1", "('HTTP_X_FORWARDED_PROTO', 'https')")],
)
def test_x_forwarded_proto_is_believed_only_when_trusted(trusted, expected):
    env = {"TRUST_X_FORWARDED_PROTO": trusted} if trusted else {}
    result = manage("shell", "-c", PROXY, SECRET_KEY=strong_key(), **env)
    assert result.returncode == 0, result.stderr
    assert shown(result)["PROXY"] == expected


def test_payee_bank_details_come_from_the_environment_one_line_each():
    show = "from django.conf import settings; print(repr(settings.BILLFOLD_PAYEE_BANK_DETAILS))"
    result = manage(
        "shell",
        "-c",
        show,
        SECRET_KEY=strong_key(),
        DATABASE_URL="",
        BILLFOLD_PAYEE_BANK_DETAILS=r"Billfold Ltd\nSort code 12-34-56",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == repr("Billfold Ltd\nSort code 12-34-56")
