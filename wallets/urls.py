"""Member pages of the wallets app (issue 6)."""

from django.urls import path

from . import views

urlpatterns = [
    path("accounts/<int:account_id>/wallets/", views.wallet_list, name="member-wallets"),
    path(
        "accounts/<int:account_id>/wallets/<int:wallet_id>/",
        views.wallet_detail,
        name="member-wallet",
    ),
]
