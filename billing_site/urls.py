"""The site's URLs: the staff admin, the REST API (with the gateway webhooks) and the
member portal (with the payment-link page)."""

from django.contrib import admin
from django.urls import include, path

from billing_site.receivables import api as receivables_api

admin.site.site_header = "Billfold"
admin.site.site_title = "Billfold back-office"
admin.site.index_title = "Billing"

urlpatterns = [
    path("admin/", admin.site.urls),
    # Receivables (issue 15), before the API's own routes (they end in a JSON 404).
    path("api/v1/receivables/aging/", receivables_api.AgingView.as_view(), name="api-aging"),
    path(
        "api/v1/receivables/overview/",
        receivables_api.OverviewView.as_view(),
        name="api-receivables-overview",
    ),
    path("api/v1/", include("billing_site.api.urls")),
    path("", include("billing_site.portal.urls")),
]

# JSON errors under /api/, Django's pages elsewhere.
handler404 = "billing_site.api.errors.handler404"
handler500 = "billing_site.api.errors.handler500"
