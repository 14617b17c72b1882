"""Billfold settings: configuration only, read from the environment (12-factor).

Every variable read here is listed, with its default and what it does, in the README's
"Deploy" section. The main ones:

DATABASE_URL   database, SQLite file by default (the one-command demo)
SECRET_KEY     required when DEBUG is off; a missing key is a start-up error
DEBUG          "1"/"true" to turn on; off by default
ALLOWED_HOSTS  comma-separated host names
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
            "(a long random string), or set DEBUG=1 for local development."
        )
    SECRET_KEY = "insecure-development-key-only-used-when-DEBUG-is-on-" + "x" * 20

ALLOWED_HOSTS = [h.strip() for h in (os.environ.get("ALLOWED_HOSTS") or "").split(",") if h.strip()]
if DEBUG and not ALLOWED_HOSTS:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    # Django's admin with Billfold's site: the finance overview on its home page.
    "billing_site.receivables.apps.BillfoldAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "djmoney",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "axes",  # login lockouts (after django.contrib.auth: its admin lists the attempts)
    "csp",
    "django_tasks",  # the job runner (README "Jobs"): django.tasks backport
    "django_tasks_db",  # its database backend: jobs as rows, `manage.py db_worker`
    # The outbox of business events: below every domain app, which may all emit.
    "events",
    # Domain apps, lowest first: payments -> wallets -> ledger (imports run that way).
    "ledger",
    "wallets",
    "payments",
    # The composition layer: delivery faces that span the domain apps.
    "billing_site.api",
    "billing_site.portal",
    "billing_site.documents",
    "billing_site.jobs",  # periodic jobs: `manage.py schedule_jobs` enqueues them
    "billing_site.webhooks",  # outgoing webhooks: endpoints, deliveries, attempts
    "billing_site.receivables",  # finance overview, aged receivables (page, CSV, PDF, API)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files with DEBUG off, before anything that would touch the session or the DB.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "billing_site.middleware.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    # Lock and statement timeouts, a lost database: 409/503 with Retry-After, not a 500.
    "billing_site.middleware.DatabaseRefusalMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "billing_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "billing_site.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE") or 0),
        # A kept connection is checked before reuse: after a database restart a worker
        # reconnects instead of answering one 503 per stale connection.
        conn_health_checks=True,
    )
}
# Every PostgreSQL connection gives up waiting for a row lock after DB_LOCK_TIMEOUT_MS
# (answered 409 + Retry-After) and cancels a statement after DB_STATEMENT_TIMEOUT_MS
# (503 + Retry-After): a stuck transaction never piles up every worker behind it.
DB_LOCK_TIMEOUT_MS = env_int("DB_LOCK_TIMEOUT_MS", 5000)
DB_STATEMENT_TIMEOUT_MS = env_int("DB_STATEMENT_TIMEOUT_MS", 30000)


def postgres_timeouts(*, lock_timeout_ms: int, statement_timeout_ms: int) -> str:
    """libpq ``options`` that set both timeouts when the connection opens (no extra
    round trip per connection)."""
    return f"-c lock_timeout={lock_timeout_ms} -c statement_timeout={statement_timeout_ms}"


if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"]["options"] = postgres_timeouts(
        lock_timeout_ms=DB_LOCK_TIMEOUT_MS, statement_timeout_ms=DB_STATEMENT_TIMEOUT_MS
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Serialise writers instead of failing with "database is locked" at once.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "static_collected")
# WhiteNoise serves the static files. With DEBUG off they are the ones `collectstatic`
# wrote, with content hashes in their names (cached for ever) and compressed copies;
# with DEBUG on (`make run`), the apps' own files, as runserver does.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# No compressed copies of source maps (browsers fetch them only with devtools open):
# they are most of collectstatic's time and of the folder's size.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")

# Members log in on the member site; staff use the admin's own login page.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "member-home"
LOGOUT_REDIRECT_URL = "login"
# Members' sessions last SESSION_COOKIE_AGE (Django's two weeks by default); a staff
# login's session is cut to STAFF_SESSION_SECONDS (billing_site.middleware).
SESSION_COOKIE_AGE = env_int("MEMBER_SESSION_SECONDS", 14 * 24 * 3600)
STAFF_SESSION_SECONDS = env_int("STAFF_SESSION_SECONDS", 8 * 3600)

# Login lockouts (django-axes), on the admin and the member login alike: after
# LOGIN_FAILURE_LIMIT wrong passwords for one username from one address, that pair is
# refused for LOGIN_COOLOFF_MINUTES, the right password included. The attempts are in the
# admin (Axes -> Access attempts), where a billing admin unlocks by deleting them
# (or `manage.py axes_reset_username <name>` / `axes_reset`).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "billing_site.middleware.lockout_response"
AXES_CLIENT_IP_CALLABLE = "billing_site.middleware.client_ip"
# The caller's address is REMOTE_ADDR unless one trusted reverse proxy sets
# X-Forwarded-For (it must overwrite, not pass on, what the client sent).
TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR")

# Money: django-money defaults. Every account has one currency (SPEC section 1).
CURRENCIES = ("GBP", "EUR", "USD", "JPY", "KWD", "BHD", "CHF")
DEFAULT_CURRENCY = "GBP"

# Production hardening: on whenever DEBUG is off (so `check --deploy` passes).
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS") or 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
# Only a proxy that sets X-Forwarded-Proto itself may say a request came over HTTPS;
# otherwise any client could send the header and pass for a secure request.
if env_bool("TRUST_X_FORWARDED_PROTO"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (django-csp): this site's own scripts, styles, images and fonts
# only — no inline script anywhere (the Swagger UI's start-up script is a URL of its own).
# Inline style *attributes* are allowed (a few admin templates use them; they cannot run
# code and images still come from 'self' only); <style> elements are not.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Browser features no page here uses, refused for this site and anything it embeds.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL") or "billing@billfold.example"
# The SMTP server (the "smtp" EMAIL_BACKEND, the default with DEBUG off). A timeout, so
# that a hanging mail server fails one send instead of holding a worker thread for ever.
EMAIL_HOST = os.environ.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL") or "WARNING"},
}

# REST API (issue 5): authentication, errors, pagination and schema live in the API code
# (billing_site/api/); this is its configuration. API keys (Bearer) first, so a request without
# credentials gets 401 with a WWW-Authenticate header; member sessions may only read.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "billing_site.api.schema.BillfoldAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "billing_site.api.auth.ApiKeyAuthentication",
        "billing_site.api.auth.MemberSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["billing_site.api.permissions.HasScope"],
    "DEFAULT_PAGINATION_CLASS": "billing_site.api.pagination.Cursor",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "billing_site.api.errors.exception_handler",
    # Per API key (billing_site/api/throttling.py); failed authentications are limited
    # per address by the authentication class itself.
    "DEFAULT_THROTTLE_CLASSES": ["billing_site.api.throttling.ApiKeyRateThrottle"],
    "PAGE_SIZE": 50,
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Billfold API",
    "DESCRIPTION": (
        "Accounts, invoices, payments, wallets and statements. Authenticate with "
        "`Authorization: Bearer <API key>` (keys are created in the admin, with scopes "
        "read/write/payments/wallets/erp). Money is always "
        '`{"amount": "75.00", "currency": "GBP"}`. Every refusal is '
        '`{"error", "detail", "field"}`. Every write accepts an `Idempotency-Key`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",  # served from static files: the docs work offline
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PaymentMethodEnum": "payments.models.PaymentMethod",
        "PaymentStatusEnum": "payments.models.PaymentStatus",
        "InvoiceStatusEnum": "ledger.models.InvoiceStatus",
        "EventTypeEnum": "events.models.EventType",  # events and webhook endpoints
        "ManualMethodEnum": "billing_site.api.payment_serializers.MANUAL_METHOD_CHOICES",
        "ReceiptMethodEnum": "billing_site.api.payment_serializers.RECEIPT_METHOD_CHOICES",
        "ReminderTriggerEnum": "payments.models.ReminderTrigger",  # two "trigger" fields:
        "TriggerEnum": "wallets.models.AutoTopUpTrigger",  # the name it had before
        "BillingRunStatusEnum": "payments.models.RunStatus",
        "BillingRunItemStatusEnum": "payments.models.ItemStatus",
    },
    "PREPROCESSING_HOOKS": ["billing_site.api.schema.only_api_views"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "billing_site.api.schema.add_error_responses",
    ],
}
INSTALLED_APPS += ["drf_spectacular_sidecar"]  # noqa: F405 - Swagger UI/Redoc static files

# Payment gateways per method (issue 7). The sandbox ships with Billfold; a real
# provider is another class implementing payments.gateways.base.Gateway. The sandbox
# (test cards, no real money) is configured only when BILLFOLD_SANDBOX_GATEWAY is on,
# by default only with DEBUG on. Its webhook secret is SANDBOX_WEBHOOK_SECRET, with no
# default when DEBUG is off: a missing, short or well-known secret of any gateway is
# the error payments.E001 of `manage.py check` (payments/checks.py).
BILLFOLD_GATEWAYS = {}
if env_bool("BILLFOLD_SANDBOX_GATEWAY", DEBUG):
    BILLFOLD_GATEWAYS["sandbox"] = {
        "class": "payments.gateways.sandbox.SandboxGateway",
        "secret": os.environ.get("SANDBOX_WEBHOOK_SECRET")
        or ("sandbox-webhook-secret" if DEBUG else ""),
        "methods": ["card", "direct_debit"],
    }
# Jobs (django-tasks, README "Jobs"): "database" (the default) stores each job as a row
# that `manage.py db_worker` processes on any number of hosts; "immediate" runs a job in
# the process that enqueues it (the SQLite demo: `make run`'s scheduler runs them).
BILLFOLD_JOBS = (os.environ.get("BILLFOLD_JOBS") or "database").strip().lower()
if BILLFOLD_JOBS not in ("database", "immediate"):
    raise ImproperlyConfigured(
        f"BILLFOLD_JOBS={BILLFOLD_JOBS!r}: use 'database' (workers) or 'immediate' (demo)."
    )
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend"
        if BILLFOLD_JOBS == "database"
        else "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default"],
    }
}

# Outgoing webhooks (README "Outgoing webhooks"): the timeout of a delivery's connect and
# of each read, in seconds; http:// endpoints only to 127.0.0.1/localhost and only when
# BILLFOLD_WEBHOOK_HTTP_LOCAL is on (default: DEBUG); where to tell staff that an endpoint
# was disabled after failing for a day (unset: the admin's badge only).
BILLFOLD_WEBHOOK_TIMEOUT = float(os.environ.get("BILLFOLD_WEBHOOK_TIMEOUT") or 5)
BILLFOLD_WEBHOOK_HTTP_LOCAL = env_bool("BILLFOLD_WEBHOOK_HTTP_LOCAL", DEBUG)
BILLFOLD_STAFF_ALERT_EMAIL = (os.environ.get("BILLFOLD_STAFF_ALERT_EMAIL") or "").strip()

PAYMENT_LINK_DAYS = int(os.environ.get("PAYMENT_LINK_DAYS") or 14)
# The site's public address, for links in emails sent outside a request (an automatic
# top-up's payment link); pages built in a request use the request's host.
BILLFOLD_SITE_URL = os.environ.get("BILLFOLD_SITE_URL") or "http://localhost:8000"
# The payee's bank details printed under "How to pay" on a request to pay by bank
# transfer (one line each; in the environment, lines separated by a newline or "\n").
BILLFOLD_PAYEE_BANK_DETAILS = (os.environ.get("BILLFOLD_PAYEE_BANK_DETAILS") or "").replace(
    "\\n", "\n"
)

# API throttling (DRF): requests per API key, and failed authentications per address
# ("<n>/<s|min|hour|day>"). Counters: on PostgreSQL one shared row per key or address
# (billing_site/api/throttle_store.py), on SQLite the default cache (README "Deploy").
API_RATE_PER_KEY = os.environ.get("API_RATE_PER_KEY") or "600/min"
API_RATE_FAILED_AUTH_PER_IP = os.environ.get("API_RATE_FAILED_AUTH_PER_IP") or "30/min"
