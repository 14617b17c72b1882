"""Settings for the test suite: the real settings with test-only defaults for what the
environment must otherwise provide (pytest imports this before Django starts)."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
# The suite runs with DEBUG off: the sandbox gateway is enabled explicitly, with a
# test-only webhook secret (never the old public default, which is refused).
os.environ.setdefault("BILLFOLD_SANDBOX_GATEWAY", "1")
os.environ.setdefault("SANDBOX_WEBHOOK_SECRET", "test-suite-only-sandbox-key-7f3a9c2e5b81d046")

from .settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast test users
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# The suite runs with DEBUG off but without `collectstatic`: WhiteNoise serves the apps'
# own static files, unhashed (production serves collectstatic's hashed copies).
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # nothing collected: WhiteNoise would warn about the missing folder

# Jobs run where they are enqueued: no test needs a worker (tests/jobs runs a real
# db_worker step on the database backend).
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# The suite sends many requests from one address with one key; tests/hardening sets
# small rates where it tests the throttles.
API_RATE_PER_KEY = "100000/min"
API_RATE_FAILED_AUTH_PER_IP = "100000/min"


# django-axes stays on; only Client.login() (no request) is let through.
AUTHENTICATION_BACKENDS = [
    "tests.hardening.axes_backend.AxesBackendAllowingTestClientLogin",
    "django.contrib.auth.backends.ModelBackend",
]

# The throttle's occasional purge of idle counters (billing_site/api/throttle_store.py)
# is off, so that query counts do not depend on chance; tests that need it set it to 1.
API_THROTTLE_PURGE_RATE = 0
