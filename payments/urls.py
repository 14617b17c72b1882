"""Member pages of the payments app (issue 6): receipts. Payment links come later."""

from django.urls import path

from . import views

urlpatterns = [
    path("accounts/<int:account_id>/receipts/", views.receipt_list, name="member-receipts"),
    path(
        "accounts/<int:account_id>/receipts/<int:payment_id>/pdf/",
        views.receipt_pdf,
        name="member-receipt-pdf",
    ),
]
