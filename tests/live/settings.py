"""Settings of the live gunicorn the tests in ``tests/live`` start: the production
settings (``billing_site.settings``, configured from the environment, DEBUG off) with one
change — WhiteNoise serves the apps' static files through the finders, so the run needs
no ``collectstatic`` (most of a minute here). ``tests/hardening/test_deploy.py`` runs
gunicorn on ``collectstatic``'s hashed, compressed files."""

from billing_site.settings import *  # noqa: F403

STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # nothing collected: WhiteNoise would warn about the missing folder
