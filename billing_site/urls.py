from django.contrib import admin
from django.urls import include, path

from payments import gateway_views

admin.site.site_header = "Billfold"
admin.site.site_title = "Billfold back-office"
admin.site.index_title = "Billing"

urlpatterns = [
    path("admin/", admin.site.urls),
    # Gateway webhooks and payment links (issue 7): plain views, before the API's routes.
    path("api/v1/gateways/<str:name>/webhook/", gateway_views.webhook, name="gateway-webhook"),
    path("pay/<str:token>/", gateway_views.pay, name="payment-link"),
    path("api/v1/", include("billing_site.api_urls")),
    # Member pages: each app serves its own (ledger: login, home, statement, invoices;
    # wallets: wallets; payments: receipts and, later, payment links).
    path("", include("ledger.urls")),
    path("", include("wallets.urls")),
    path("", include("payments.urls")),
]

# JSON errors under /api/, Django's pages elsewhere.
handler404 = "ledger.api.errors.handler404"
handler500 = "ledger.api.errors.handler500"
