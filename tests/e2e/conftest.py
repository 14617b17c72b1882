"""Browser tests: pytest-playwright driving Debian's Chromium against ``live_server``.

Playwright cannot download its own browser here, so the launch arguments point at
``/usr/bin/chromium``. Without it the tests skip with a reason — except under
``CI=true``, where a missing browser is a failure (``.ci/run`` installs it first).

Playwright's sync API runs an event loop in the test thread, which makes Django refuse
ORM calls there as "async unsafe"; ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set for the whole
session (a per-test monkeypatch is undone before the database teardown that needs it).
"""

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="session", autouse=True)
def _allow_orm_beside_playwright():
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def _chromium():
    if not Path(CHROMIUM).exists():
        reason = f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; under CI=true the browser tests must run.")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, _chromium):
    return {**browser_type_launch_args, "executable_path": _chromium, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "viewport": {"width": 1280, "height": 860},
        "accept_downloads": True,
        "locale": "en-GB",
        "timezone_id": "UTC",
    }


@pytest.fixture
def e2e_settings(settings):
    """Plain-HTTP live server: the production cookie flags would need HTTPS."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SECURE_SSL_REDIRECT = False
    return settings


@pytest.fixture
def screenshots(tmp_path_factory):
    """Where the browser tests save their screenshots: ``docs/screenshots`` (the README's)
    with ``BILLFOLD_SCREENSHOTS=1``, else a temporary folder, so that an ordinary test
    run leaves the working tree as it was."""
    if os.environ.get("BILLFOLD_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")
