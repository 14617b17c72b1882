"""Finding: with DEBUG off and a strict Content-Security-Policy, the pages must still
work — their styles applied and their scripts run, with not one CSP violation: the
admin (login and index), a member page, Swagger UI (its operation list appears) and
Redoc. Before the fix, Swagger UI started from an inline script and both API docs pages
carried inline styles (and Redoc fetched web fonts from a CDN)."""

import pytest
from django.conf import settings

from ledger import services as ledger
from tests.hardening.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile);
});
"""


@pytest.fixture
def watched(page):
    """The page, with every CSP violation and console error kept."""
    page.add_init_script(WATCH_CSP)
    page.console_errors = []
    page.on(
        "console",
        lambda msg: msg.type in ("error", "warning") and page.console_errors.append(msg.text),
    )
    page.on("pageerror", lambda exc: page.console_errors.append(f"page error: {exc}"))
    return page


def violations(page) -> list[str]:
    found = list(page.evaluate("window.__csp || []"))
    found += [m for m in page.console_errors if "Content Security Policy" in m]
    return found


def css(page, selector: str, prop: str) -> str:
    return page.eval_on_selector(selector, f"e => getComputedStyle(e).{prop}")


def test_admin_member_pages_and_api_docs_work_under_the_csp(
    watched, live_server, e2e_settings, staff, member
):
    assert settings.DEBUG is False
    page, base = watched, live_server.url
    ledger.create_account(
        name="Second Ltd", email="s@example.test", currency="EUR",
        actor=ledger.system_actor("tests"), members=[member],
    )  # fmt: skip

    # The admin login page: admin CSS applied (the header's colour), its script ran
    # (theme.js sets the theme on <html>); then log in to the index.
    response = page.goto(f"{base}/admin/login/")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert css(page, "#header", "backgroundColor") not in ("", "rgba(0, 0, 0, 0)")
    assert page.evaluate("document.documentElement.dataset.theme") == "auto"
    page.fill("#id_username", staff.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")
    assert page.locator("#site-name").inner_text() == "Billfold"
    assert violations(page) == []

    # A member page, after logging in through the member form: site.css applied.
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(member.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    # The home page: the member's account with its whole position (issue 11).
    assert page.locator("section.position").count() >= 1
    assert css(page, "main", "maxWidth") != "none"  # member/site.css lays the page out
    assert violations(page) == []

    # Swagger UI: the bundle and the start-up script (its own URL) run, and the list of
    # operations appears.
    page.goto(f"{base}/api/v1/docs/")
    page.wait_for_selector(".opblock", timeout=15000)
    assert page.locator(".opblock").count() > 10
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("Billfold API")
    assert violations(page) == []

    # Redoc renders the schema too, its search worker runs; the one thing refused is the
    # Redocly logo its bundle always fetches from a CDN (this site serves no CDN content).
    page.goto(f"{base}/api/v1/redoc/")
    page.wait_for_selector("h1:has-text('Billfold API')", timeout=15000)
    page.wait_for_selector("input[placeholder='Search...']", timeout=15000)
    assert page.locator("[role=menuitem]").count() > 10
    page.wait_for_timeout(500)  # the worker starts after the first render
    assert [v for v in violations(page) if "cdn.redoc.ly" not in v] == []
