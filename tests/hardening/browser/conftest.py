"""The browser tests' set-up (Debian's Chromium, the ORM beside Playwright, plain-HTTP
cookies), shared with tests/e2e."""

from tests.e2e.conftest import (  # noqa: F401 - fixtures
    _allow_orm_beside_playwright,
    _chromium,
    browser_context_args,
    browser_type_launch_args,
    e2e_settings,
)
