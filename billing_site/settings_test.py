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
