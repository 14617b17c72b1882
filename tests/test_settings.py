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


def test_production_settings_pass_check_deploy(tmp_path):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=strong_key(),
        ALLOWED_HOSTS="billfold.example",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
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
