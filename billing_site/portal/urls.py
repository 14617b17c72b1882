"""The member portal's URLs: login and password reset, home, and per account the
statement (page, CSV, PDF), invoices (page, PDF, *Pay now*), wallets, receipts; the
payment-link page (no login: the signed link is the credential)."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from billing_site.portal.views import (
    credit_notes,
    home,
    invoices,
    pay_link,
    receipts,
    statement,
    wallets,
)

AUTH = "member/auth/"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name=AUTH + "login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name=AUTH + "password_reset_form.html",
            email_template_name=AUTH + "password_reset_email.txt",
            subject_template_name=AUTH + "password_reset_subject.txt",
            success_url=reverse_lazy("password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name=AUTH + "password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name=AUTH + "password_reset_confirm.html",
            success_url=reverse_lazy("password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name=AUTH + "password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("", home.home, name="member-home"),
    path("accounts/<int:account_id>/statement/", statement.statement, name="member-statement"),
    path(
        "accounts/<int:account_id>/statement/csv/",
        statement.statement_csv,
        name="member-statement-csv",
    ),
    path(
        "accounts/<int:account_id>/statement/pdf/",
        statement.statement_pdf,
        name="member-statement-pdf",
    ),
    path("accounts/<int:account_id>/invoices/", invoices.invoice_list, name="member-invoices"),
    path(
        "accounts/<int:account_id>/invoices/<int:invoice_id>/",
        invoices.invoice_detail,
        name="member-invoice",
    ),
    path(
        "accounts/<int:account_id>/invoices/<int:invoice_id>/pdf/",
        invoices.invoice_pdf,
        name="member-invoice-pdf",
    ),
    path(
        "accounts/<int:account_id>/invoices/<int:invoice_id>/pay/",
        invoices.pay_now,
        name="member-invoice-pay",
    ),
    path(
        "accounts/<int:account_id>/credit-notes/<int:credit_note_id>/pdf/",
        credit_notes.credit_note_pdf,
        name="member-credit-note-pdf",
    ),
    path("accounts/<int:account_id>/wallets/", wallets.wallet_list, name="member-wallets"),
    path(
        "accounts/<int:account_id>/wallets/<int:wallet_id>/",
        wallets.wallet_detail,
        name="member-wallet",
    ),
    path("accounts/<int:account_id>/receipts/", receipts.receipt_list, name="member-receipts"),
    path(
        "accounts/<int:account_id>/receipts/<int:payment_id>/pdf/",
        receipts.receipt_pdf,
        name="member-receipt-pdf",
    ),
    path("pay/<str:token>/", pay_link.pay, name="payment-link"),
]
