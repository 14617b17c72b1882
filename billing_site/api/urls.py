"""REST API routes under /api/v1/. Schema at schema/, docs at docs/ (served from this
site's static files, no CDN); gateway webhooks at gateways/<name>/webhook/; any other
path here is a JSON 404."""

from csp.decorators import csp_update
from django.urls import path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import SimpleRouter

from billing_site.api import webhooks
from billing_site.api.accounts import AccountGroupViewSet, AccountViewSet
from billing_site.api.billing_runs import BillingRunViewSet
from billing_site.api.credit_memos import CreditMemoViewSet
from billing_site.api.dunning import ReminderLevelViewSet
from billing_site.api.errors import not_found_view
from billing_site.api.events import EventViewSet
from billing_site.api.invoices import InvoiceViewSet
from billing_site.api.mandates import MandateViewSet
from billing_site.api.payments import PaymentViewSet
from billing_site.api.wallets import WalletViewSet
from billing_site.webhooks.api import WebhookDeliveryViewSet, WebhookEndpointViewSet

router = SimpleRouter()
router.register("accounts", AccountViewSet, basename="api-account")
router.register("account-groups", AccountGroupViewSet, basename="api-account-group")
router.register("invoices", InvoiceViewSet, basename="api-invoice")
router.register("payments", PaymentViewSet, basename="api-payment")
router.register("wallets", WalletViewSet, basename="api-wallet")
router.register("credit-memos", CreditMemoViewSet, basename="api-credit-memo")
router.register("mandates", MandateViewSet, basename="api-mandate")
router.register("billing-runs", BillingRunViewSet, basename="api-billing-run")
router.register("reminder-levels", ReminderLevelViewSet, basename="api-reminder-level")
router.register("events", EventViewSet, basename="api-event")
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="api-webhook-endpoint")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="api-webhook-delivery")

urlpatterns = [
    # Plain views (not DRF): a gateway signs its body, it has no API key.
    path("gateways/<str:name>/webhook/", webhooks.webhook, name="gateway-webhook"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Under the site's CSP: Swagger UI's start-up script is served at docs/?script=
    # (the split view), never inline; both pages use templates without inline <style>.
    # Redoc's bundle injects its own <style> elements as it loads (styled-components) and
    # runs its search in a blob: worker, so its page alone allows both; its scripts are
    # still 'self' only, and the Redocly logo it fetches from a CDN stays refused.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    path(
        "redoc/",
        csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})(
            SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html")
        ),
        name="api-redoc",
    ),
    *router.urls,
    re_path(r"^.*$", not_found_view),
]
