"""Direct-debit mandates in the admin: the account's *Mandates* tab (its mandates as
read-only rows, *Add mandate*, *Revoke* on the active one) and each mandate's own page
(read-only, *Revoke*). Every write goes through ``payments.services``: adding calls
``create_mandate`` (the IBAN goes to the gateway; only its last four characters are
kept), revoking ``revoke_mandate``. The IBAN is shown masked everywhere."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone

from ledger.admin.display import LedgerAdminMedia
from ledger.admin_actions import ObjectAction, ObjectActionsMixin
from ledger.errors import BillingError
from ledger.services import user_actor

from ..models import Mandate
from ..selectors import mandates_of
from ..services import create_mandate, revoke_mandate
from .account_tabs import AccountTabMixin


class MandateForm(forms.Form):
    reference = forms.CharField(max_length=35, help_text="The mandate reference (SEPA UMR).")
    signed_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        label="Signed on",
        help_text="The day the member signed it.",
    )
    iban = forms.CharField(
        max_length=42,
        label="IBAN",
        help_text="Handed to the gateway, which keeps it; Billfold keeps its last four "
        "characters only.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["signed_on"].initial = timezone.localdate()


class RevokeForm(forms.Form):
    reason = forms.CharField(max_length=255, required=False)


def mandate_figures(m: Mandate) -> list[tuple[str, object]]:
    return [
        ("Account", m.account.name),
        ("Mandate", m.reference),
        ("IBAN", m.iban_masked),
        ("Signed on", m.signed_on.strftime("%d %b %Y")),
    ]


MANDATE_ACTIONS = {
    "revoke": ObjectAction(
        label="Revoke",
        permission="payments.revoke_mandate",
        form=RevokeForm,
        run=lambda m, a, d: revoke_mandate(mandate=m.pk, actor=a, reason=d.get("reason", "")),
        done="Mandate {reference} revoked: direct debits no longer use it.",
        offered=lambda m, user: m.is_active,
        context=mandate_figures,
        help="Direct debits stop using this mandate; one already sent goes on to its outcome.",
    ),
}

SHOWN = (
    "account",
    "reference",
    "iban_display",
    "signed_on",
    "status",
    "gateway",
    "created_at",
    "created_by_label",
    "revoked_at",
    "revoked_by_label",
    "revoke_reason",
)


@admin.register(Mandate)
class MandateAdmin(AccountTabMixin, ObjectActionsMixin, admin.ModelAdmin):
    object_actions = MANDATE_ACTIONS
    change_form_template = "admin/object_actions_change_form.html"
    list_display = ("reference", "account", "iban_display", "signed_on", "status", "revoked_at")
    list_filter = ("status",)
    search_fields = ("reference", "account__name")
    list_select_related = ("account",)
    fields = SHOWN
    readonly_fields = SHOWN
    Media = LedgerAdminMedia

    @admin.display(description="IBAN")
    def iban_display(self, obj):
        return obj.iban_masked

    def has_add_permission(self, request):
        """Added from the account's *Mandates* tab, through the service."""
        return False

    def has_change_permission(self, request, obj=None):
        return False  # read-only: revoked with *Revoke*

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        own = [
            path(
                "account/<int:account_id>/",
                wrap(self.account_mandates_view),
                name="payments_account_mandates",
            ),
            path(
                "account/<int:account_id>/add/",
                wrap(self.add_mandate_view),
                name="payments_account_mandate_add",
            ),
        ]
        return own + super().get_urls()

    def account_mandates_view(self, request, account_id):
        account = self._account(request, account_id, "payments.view_mandate", "see mandates")
        rows = list(mandates_of(account))
        return self._page(
            request,
            "admin/ledger/account/mandates.html",
            account,
            "Mandates",
            mandates=rows,
            active_tab="mandates",
            has_active=any(m.is_active for m in rows),
        )

    def add_mandate_view(self, request, account_id):
        account = self._account(request, account_id, "payments.add_mandate", "add mandates")
        form = MandateForm(request.POST or None)
        back = reverse("admin:payments_account_mandates", args=[account.pk])
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:  # its own transaction; the gateway is called before it locks anything
                mandate = create_mandate(
                    account=account.pk,
                    reference=data["reference"],
                    signed_on=data["signed_on"],
                    iban=data["iban"],
                    actor=user_actor(request.user),
                )
            except BillingError as exc:
                self.message_user(request, exc.detail, messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Mandate {mandate.reference} added ({mandate.iban_masked}): direct debits "
                    f"of {account.name} use it.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(back)
        return self._page(
            request,
            "admin/object_action.html",
            account,
            "Add mandate",
            form=form,
            action_label="Add mandate",
            action_help="Record the member's signed direct-debit mandate.",
            figures=[("Account", f"{account.name} — {account.currency}")],
            back_url=back,
        )
