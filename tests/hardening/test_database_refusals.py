"""Findings: (1) no PostgreSQL connection had a lock or statement timeout, so one stuck
transaction holding an account's row lock made every request on that account wait for
ever, piling up every worker behind it; (2) a lock timeout, a cancelled statement or a
lost database was a bare 500. Now every connection gets DB_LOCK_TIMEOUT_MS and
DB_STATEMENT_TIMEOUT_MS from the settings, and the answers are 409 ``lock_timeout`` /
503 ``statement_timeout`` / 503 ``database_unavailable``, each with Retry-After — JSON
in the API's shape under /api/, a page in the admin's or the members' look elsewhere."""

import os
import runpy
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError, connection, transaction
from django.test import Client, RequestFactory

from billing_site.api import errors
from billing_site.middleware import database_refusal
from ledger import services as ledger
from tests.hardening.conftest import json_of

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "billing_site" / "settings.py"


def settings_with(**env) -> dict:
    """What ``billing_site/settings.py`` builds from this environment plus ``env``."""
    with mock.patch.dict(os.environ, {k: str(v) for k, v in env.items()}):
        return runpy.run_path(str(SETTINGS_FILE))


@pytest.fixture
def connect_with():
    """``connect_with(DB_LOCK_TIMEOUT_MS=..)``: from now on every new connection (any
    thread) is opened with the options the settings build from those variables."""
    options = connection.settings_dict["OPTIONS"]
    saved = options.get("options")

    def use(**env):
        built = settings_with(**env)["DATABASES"]["default"]
        options["options"] = built["OPTIONS"]["options"]
        connection.close()

    yield use
    options["options"] = saved
    connection.close()


@contextmanager
def held(sql: str, *params):
    """Run ``sql`` in another thread's transaction on its own connection and keep that
    transaction (and its locks) open until the block ends."""
    locked, release, failures = threading.Event(), threading.Event(), []

    def hold():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, params)
                locked.set()
                release.wait(30)
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)
            locked.set()
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert locked.wait(10) and not failures, failures
    try:
        yield
    finally:
        release.set()
        thread.join(10)


def timed(call):
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


@contextmanager
def database_down_context():
    """Every new cursor fails to connect, as when the server is unreachable."""

    def refuse():
        raise OperationalError('connection to server at "db" failed: Connection refused')

    with mock.patch.object(connection, "ensure_connection", refuse):
        yield


def make_account(name):
    return ledger.create_account(
        name=name, email="a@example.test", currency="GBP", actor=ledger.system_actor("tests")
    )


# -- PostgreSQL: the timeouts are on every connection, from the settings -----------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_every_connection_has_the_timeouts_of_the_settings(settings):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, setting FROM pg_settings"
            " WHERE name IN ('lock_timeout', 'statement_timeout')"
        )
        found = dict(cursor.fetchall())
    assert found == {"lock_timeout": "5000", "statement_timeout": "30000"}
    assert (settings.DB_LOCK_TIMEOUT_MS, settings.DB_STATEMENT_TIMEOUT_MS) == (5000, 30000)


def test_the_timeouts_come_from_the_environment():
    postgres = "postgres://u:p@db.example:5432/billfold"
    built = settings_with(DATABASE_URL=postgres, DB_LOCK_TIMEOUT_MS=1234)
    options = built["DATABASES"]["default"]["OPTIONS"]["options"]
    assert options == "-c lock_timeout=1234 -c statement_timeout=30000"
    built = settings_with(DATABASE_URL="sqlite:////tmp/x.sqlite3", DB_STATEMENT_TIMEOUT_MS=9)
    assert "options" not in built["DATABASES"]["default"]["OPTIONS"]  # SQLite has none


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_held_row_lock_makes_a_write_409_within_the_lock_timeout(connect_with, make_key):
    locked, other = make_account("Locked Ltd"), make_account("Other Ltd")
    api = make_key()
    assert api.get(f"/api/v1/accounts/{other.pk}/").status_code == 200  # warm
    connect_with(DB_LOCK_TIMEOUT_MS=1500)

    with held("SELECT id FROM ledger_account WHERE id = %s FOR UPDATE", locked.pk):
        write, waited = timed(lambda: api.patch(f"/api/v1/accounts/{locked.pk}/", {"name": "X"}))
        read, read_time = timed(lambda: api.get(f"/api/v1/accounts/{other.pk}/"))

    assert write.status_code == 409
    assert json_of(write) == {
        "error": "lock_timeout",
        "detail": json_of(write)["detail"],
        "field": None,
    }
    assert "try again" in json_of(write)["detail"].lower()
    assert int(write["Retry-After"]) >= 1
    assert 1.4 <= waited < 1.5 + 3  # it waited the lock timeout, and no longer
    # Another account was read while the lock was held, without waiting for it.
    assert read.status_code == 200 and read_time < 1.5
    # Once the lock is gone the same write goes through: nothing was left half-done.
    again = api.patch(f"/api/v1/accounts/{locked.pk}/", {"name": "Renamed"})
    assert again.status_code == 200 and json_of(again)["name"] == "Renamed"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_lock_timeout_in_the_admin_and_member_pages_is_a_409_page(connect_with, staff, member):
    admin, portal = Client(), Client()
    admin.force_login(staff)
    portal.force_login(member)
    connect_with(DB_LOCK_TIMEOUT_MS=500)

    with held("LOCK TABLE ledger_account IN ACCESS EXCLUSIVE MODE"):
        staff_page = admin.get("/admin/ledger/account/")
        member_page = portal.get("/")

    for page, look in ((staff_page, "admin/css/base"), (member_page, "member/site.css")):
        assert page.status_code == 409
        assert page["Retry-After"] == "2"
        html = page.content.decode()
        assert "Someone else is changing this right now" in html and look in html


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_statement_timeout_is_a_503(connect_with, make_key):
    account = make_account("Slow Ltd")
    api = make_key()
    # No lock timeout: the write waits until the statement timeout cancels it.
    connect_with(DB_LOCK_TIMEOUT_MS=0, DB_STATEMENT_TIMEOUT_MS=700)

    with held("SELECT id FROM ledger_account WHERE id = %s FOR UPDATE", account.pk):
        response, waited = timed(
            lambda: api.patch(f"/api/v1/accounts/{account.pk}/", {"name": "X"})
        )

    assert response.status_code == 503
    assert json_of(response)["error"] == "statement_timeout"
    assert response["Retry-After"] == "10"
    assert 0.6 <= waited < 4


# -- The database is gone ----------------------------------------------------------------


@pytest.mark.django_db
def test_database_down_is_a_503_with_retry_after(make_key, staff, member):
    api = make_key()
    admin, portal = Client(), Client()
    admin.force_login(staff)
    portal.force_login(member)

    with database_down_context():
        api_answer = api.get("/api/v1/accounts/")
        admin_page = admin.get("/admin/")
        member_page = portal.get("/")
        login_page = Client().post("/login/", {"username": "x", "password": "y"})

    assert api_answer.status_code == 503
    assert api_answer["Retry-After"] == "30"
    assert api_answer["Content-Type"] == "application/json"
    body = json_of(api_answer)
    assert body["error"] == "database_unavailable" and body["field"] is None
    for page in (admin_page, member_page, login_page):
        assert page.status_code == 503
        assert page["Retry-After"] == "30"
        assert "Billfold is unavailable" in page.content.decode()
    assert "admin/css/base" in admin_page.content.decode()
    assert "member/site.css" in member_page.content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_unreachable_server_is_a_503(make_key):
    """The real thing: the next connection goes to a port where nothing listens."""
    api = make_key()
    saved = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = "1"
    connection.close()
    try:
        response = api.get("/api/v1/accounts/")
        page = Client().post("/login/", {"username": "x", "password": "y"})
    finally:
        connection.settings_dict["PORT"] = saved
        connection.close()
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert json_of(response)["error"] == "database_unavailable"
    assert page.status_code == 503 and page["Retry-After"] == "30"


def test_a_refusal_raised_outside_a_view_gets_the_same_answer():
    """A middleware's query (say the session's) fails before any view: handler500."""
    request = RequestFactory().get("/api/v1/accounts/")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = errors.handler500(request)
    assert response.status_code == 503 and response["Retry-After"] == "30"
    page_request = RequestFactory().get("/admin/")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        page = errors.handler500(page_request)
    assert page.status_code == 503 and "Billfold is unavailable" in page.content.decode()


@pytest.mark.django_db
def test_a_bug_is_still_a_500_not_a_refusal():
    """A query against a table that does not exist is not the database refusing."""
    from django.db import DatabaseError

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_here")
    except DatabaseError:
        exc = sys.exc_info()[1]
    assert database_refusal(exc) is None
