"""Findings: with DEBUG off (1) nothing served the static files, so the admin and the
member pages lost their styles and scripts; (2) no Content-Security-Policy or
Permissions-Policy header was sent; (3) X-Forwarded-Proto was always believed, so any
client could pass for HTTPS; (4) a staff session lasted as long as a member's (two
weeks). The suite runs with DEBUG off; the gunicorn test runs the deployment as
`make serve` does (collectstatic's hashed files, gunicorn.conf.py)."""

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client

from tests.hardening.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


def stylesheets(html: str) -> list[str]:
    return re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)


def csp_directives(header: str) -> dict[str, list[str]]:
    parts = (p.strip().split() for p in header.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


def assert_strict_csp(response):
    policy = csp_directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no CDN, no nonce games
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_static_files_are_served_with_debug_off(client):
    assert settings.DEBUG is False
    admin_css = stylesheets(client.get("/admin/login/").content.decode())
    member_css = stylesheets(client.get("/login/").content.decode())
    assert "/static/admin/css/base.css" in admin_css
    assert "/static/member/site.css" in member_css
    for url in ("/static/admin/css/base.css", "/static/member/site.css"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/css")
        assert b"".join(response.streaming_content)


@pytest.mark.django_db
def test_html_pages_carry_the_csp_and_permissions_policy(client, member):
    for url in ("/admin/login/", "/login/", "/api/v1/docs/"):
        assert_strict_csp(client.get(url))
    client.force_login(member)
    assert_strict_csp(client.get("/"))
    assert_strict_csp(client.get("/admin/login/"))  # (redirects a member to log in)
    # Redoc's page alone lets its bundle inject styles and start its search worker.
    redoc = csp_directives(client.get("/api/v1/redoc/")["Content-Security-Policy"])
    assert redoc["script-src"] == ["'self'"]
    assert redoc["style-src"] == ["'self'", "'unsafe-inline'"]
    assert redoc["worker-src"] == ["'self'", "blob:"]


@pytest.mark.django_db
def test_the_api_docs_have_no_inline_script(client):
    page = client.get("/api/v1/docs/").content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    start = re.search(r'<script src="([^"]*\?script=[^"]*)"', page).group(1)
    init = client.get(start.replace("&amp;", "&"))
    assert init.status_code == 200
    assert init["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in init.content.decode()
    assert "<style>" not in page and "<style>" not in client.get("/api/v1/redoc/").content.decode()
    assert "fonts.googleapis.com" not in client.get("/api/v1/redoc/").content.decode()


@pytest.mark.django_db
def test_x_forwarded_proto_is_ignored_unless_the_proxy_is_trusted(client, settings):
    """The test settings leave TRUST_X_FORWARDED_PROTO unset: the header proves nothing
    (tests/test_settings.py checks the setting it turns on)."""
    settings.SECURE_SSL_REDIRECT = True
    assert getattr(settings, "SECURE_PROXY_SSL_HEADER", None) is None
    response = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # trusted
    assert client.get("/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 200


@pytest.mark.django_db
def test_a_staff_session_is_shorter_than_a_members(staff, member):
    staff_client, member_client = Client(), Client()
    staff_client.post("/admin/login/", {"username": staff.username, "password": PASSWORD})
    member_client.post("/login/", {"username": member.username, "password": PASSWORD})
    assert SESSION_KEY in staff_client.session and SESSION_KEY in member_client.session
    assert staff_client.session.get_expiry_age() == settings.STAFF_SESSION_SECONDS == 8 * 3600
    assert staff_client.cookies["sessionid"]["max-age"] == 8 * 3600
    assert member_client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE
    assert settings.SESSION_COOKIE_AGE == 14 * 24 * 3600


# -- The deployment itself: collectstatic + gunicorn.conf.py, DEBUG off -------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env(tmp: Path, **extra) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PYTEST_", "TRUST_", "SECURE_", "BILLFOLD_", "SANDBOX_"))
        and k not in ("DEBUG", "DATABASE_URL")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="billing_site.settings",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        STATIC_ROOT=str(tmp / "static"),
        **extra,
    )
    return env


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """A migrated database and collected static files, as `make serve` prepares them."""
    tmp = tmp_path_factory.mktemp("deploy")
    env = production_env(tmp, SECURE_SSL_REDIRECT="0")
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    return tmp


class Gunicorn:
    def __init__(self, tmp: Path, **env):
        self.port = free_port()
        self.log = open(tmp / f"gunicorn-{self.port}.log", "w+")  # noqa: SIM115
        env = production_env(tmp, PORT=str(self.port), GUNICORN_WORKERS="1", **env)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert self.process.poll() is None, self.output()
                time.sleep(0.1)
        raise AssertionError(f"gunicorn did not start: {self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def get(self, path: str, **headers):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers)
        opener = urllib.request.build_opener(NoRedirects)
        try:
            return opener.open(request, timeout=20)
        except urllib.error.HTTPError as answer:
            return answer

    def stop(self):
        self.process.terminate()
        self.process.wait(20)
        self.log.close()


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def gunicorn(deployed):
    servers = []

    def start(**env):
        servers.append(Gunicorn(deployed, **env))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def test_gunicorn_serves_the_pages_and_their_hashed_static_files(gunicorn):
    server = gunicorn(SECURE_SSL_REDIRECT="0")
    for page, css in (("/admin/login/", "admin/css/base."), ("/login/", "member/site.")):
        answer = server.get(page)
        assert answer.status == 200, server.output()
        assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["Permissions-Policy"]
        links = [u for u in stylesheets(answer.read().decode()) if css in u]
        assert links and re.search(r"\.[0-9a-f]{12}\.css$", links[0]), links  # hashed name
        static = server.get(links[0], **{"Accept-Encoding": "gzip"})
        assert static.status == 200
        assert static.headers["Content-Type"].startswith("text/css")
        assert "immutable" in static.headers["Cache-Control"]  # cached for ever
        assert static.headers.get("Content-Encoding") == "gzip"  # the compressed copy
    assert "GET /login/ HTTP/1.1" in server.output()  # the access log


def test_gunicorn_does_not_believe_x_forwarded_proto_unless_trusted(gunicorn):
    """gunicorn itself trusts X-Forwarded-Proto from 127.0.0.1 by default: the config
    leaves that decision to Django's TRUST_X_FORWARDED_PROTO."""
    untrusted = gunicorn(SECURE_SSL_REDIRECT="1")
    spoofed = untrusted.get("/login/", **{"X-Forwarded-Proto": "https"})
    assert spoofed.status == 301 and spoofed.headers["Location"].startswith("https://")
    trusted = gunicorn(SECURE_SSL_REDIRECT="1", TRUST_X_FORWARDED_PROTO="1")
    assert trusted.get("/login/", **{"X-Forwarded-Proto": "https"}).status == 200
    assert trusted.get("/login/").status == 301  # plain HTTP is still sent to HTTPS
