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
        "viewport": {"width": 1366, "height": 900},  # the README screenshots' width
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


# --- shared by the staff workflows (tests/e2e/test_staff_*.py) ------------------------


@pytest.fixture
def log_in(live_server, e2e_settings, django_user_model):
    """``log_in(page, role_or_user)``: a browser context logged in without the form (a
    session made by the test client, its cookie handed to the browser). ``role`` is a
    staff role's group name (a staff user in that group is made) or an existing user.
    The form itself is walked by the member tests and the clerk's run."""
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.test import Client

    from payments.roles import ensure_roles

    made = {}

    def log(page, who):
        if isinstance(who, str):
            if who not in made:
                ensure_roles()  # a transactional test's flush removed the migrations' groups
                user = django_user_model.objects.create_user(
                    username=who.lower().replace(" ", "-"),
                    password="staff-pass-123",
                    email=f"{who.lower().replace(' ', '.')}@billfold.test",
                    first_name=who.split()[-1].capitalize(),
                    is_staff=True,
                )
                user.groups.add(Group.objects.get(name=who))
                made[who] = user
            who = made[who]
        client = Client()
        client.force_login(who)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
        )
        return who

    return log


@pytest.fixture
def second_page(browser, browser_context_args):
    """Another browser context (another person: the member beside the staff user)."""
    context = browser.new_context(**browser_context_args)
    yield context.new_page()
    context.close()
