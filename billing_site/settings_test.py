"""Settings for the test suite: the real settings with test-only defaults for what the
environment must otherwise provide (pytest imports this before Django starts)."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

from .settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast test users
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
