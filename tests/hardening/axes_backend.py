"""The suite's authentication backend (``billing_site.settings_test``): django-axes as in
production, except for ``Client.login()``."""

from axes.backends import AxesStandaloneBackend


class AxesBackendAllowingTestClientLogin(AxesStandaloneBackend):
    """``Client.login()`` calls ``authenticate()`` without a request, which axes refuses
    with an error; let that one through to ``ModelBackend``. Every login through a URL
    (the admin's, the member's) has a request and is checked — and locked out — as in
    production (tests/hardening/test_lockout.py)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
