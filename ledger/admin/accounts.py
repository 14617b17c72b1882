"""Admin for accounts and account groups, with the account's "Payments" tab.

An account is opened through ``services.create_account`` (so it starts with a zero
balance in its own currency); later edits save only the plain fields the form shows,
never ``balance``/``last_seq``, which belong to the posting service and its row lock.
"""

from django import forms
from django.contrib import admin
from django.db.models import Count, Q
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from .. import services
from ..models import Account, AccountGroup
from .display import LedgerAdminMedia, money_cell
from .pages import AdminLookMixin
from .payments_tab import payments_csv_view, payments_view
from .verify_page import verify_view

LEDGER_FIELDS = ("balance_display", "last_seq", "last_posted_at", "created_at")


account_has_history = services.has_history  # entries or invoices fix the currency


class AccountForm(forms.ModelForm):
    class Meta:
        model = Account
        fields = (*services.EDITABLE_FIELDS, "members")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        members = self.fields.get("members")
        if members is not None:
            # Members read the member pages: active people without staff access (staff
            # work in the admin). Whoever is already a member stays listed until removed.
            current = self.instance.members.all() if self.instance.pk else []
            members.queryset = members.queryset.filter(
                Q(is_staff=False, is_active=True) | Q(pk__in=[u.pk for u in current])
            ).order_by("username")
            members.help_text = "People who read this account's pages (staff are not listed)."

    def clean_currency(self):
        currency = self.cleaned_data.get("currency")
        instance = self.instance
        if (
            instance.pk
            and currency
            and currency != instance.currency
            and account_has_history(instance)
        ):
            raise forms.ValidationError(
                f"The currency cannot change: the account already has entries or invoices "
                f"in {instance.currency}."
            )
        return currency

    def clean_external_ref(self):
        # Blank means "none": store NULL so the unique constraint allows many blanks.
        return self.cleaned_data.get("external_ref") or None


@admin.register(Account)
class AccountAdmin(AdminLookMixin, admin.ModelAdmin):
    form = AccountForm
    list_display = ("name", "email", "currency", "balance_display", "group")
    list_filter = ("currency", "group", "is_active", "erp_managed")
    search_fields = ("name", "email", "external_ref")
    list_select_related = ("group",)
    autocomplete_fields = ("group",)
    filter_horizontal = ("members",)
    fieldsets = (
        (None, {"fields": ("name", "email", "currency", "external_ref", "group")}),
        ("Billing", {"fields": ("erp_managed", "payment_terms_days", "is_active")}),
        ("Access", {"fields": ("members",)}),
        ("Ledger", {"fields": LEDGER_FIELDS}),
    )
    readonly_fields = LEDGER_FIELDS
    Media = LedgerAdminMedia

    @admin.display(description="balance", ordering="balance")
    def balance_display(self, obj):
        return money_cell(obj.balance)

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # the ledger starts empty: nothing to show yet
            return self.fieldsets[:-1]
        return self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and account_has_history(obj):
            fields.append("currency")
        return fields

    def has_delete_permission(self, request, obj=None):
        """An account with entries or invoices is kept for good (deactivate it instead);
        one opened by mistake, with no history, may be deleted, one at a time."""
        if obj is None or account_has_history(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        """Open new accounts through the service; on change write only the form's plain
        fields so a concurrent posting's balance is never overwritten."""
        data = form.cleaned_data
        if not change:
            account = services.create_account(
                name=data["name"],
                email=data["email"],
                currency=data["currency"],
                actor=services.user_actor(request.user),
                external_ref=data.get("external_ref"),
                group=data.get("group"),
                erp_managed=data.get("erp_managed", False),
                payment_terms_days=data.get("payment_terms_days", 14),
            )
            # The admin goes on with ``obj`` (members, log entry, redirect): make it the
            # saved row.
            for field in Account._meta.concrete_fields:
                setattr(obj, field.attname, getattr(account, field.attname))
            obj._state.adding = False
            obj._state.db = account._state.db
            return
        fields = [name for name in form.changed_data if name in services.EDITABLE_FIELDS]
        if fields:
            services.update_account(
                account=obj.pk,
                actor=services.user_actor(request.user),
                **{name: data[name] for name in fields},
            )

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        site = self.admin_site

        def payments(request, object_id):
            return payments_view(self, request, object_id)

        def payments_csv(request, object_id):
            return payments_csv_view(self, request, object_id)

        def verify(request, object_id):
            return verify_view(self, request, object_id)

        return [
            path(
                "<int:object_id>/payments/",
                site.admin_view(payments),
                name=f"{prefix}_payments",
            ),
            path(
                "<int:object_id>/payments.csv",
                site.admin_view(payments_csv),
                name=f"{prefix}_payments_csv",
            ),
            path("<int:object_id>/verify/", site.admin_view(verify), name=f"{prefix}_verify"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["active_tab"] = "details"
        return super().render_change_form(request, context, add, change, form_url, obj)


GROUP_ACCOUNTS_SHOWN = 50


@admin.register(AccountGroup)
class AccountGroupAdmin(AdminLookMixin, admin.ModelAdmin):
    list_display = ("name", "admin_account", "account_count", "created_at")
    search_fields = ("name", "accounts__name")
    autocomplete_fields = ("admin_account",)
    fields = ("name", "admin_account", "accounts_list", "created_at")
    readonly_fields = ("accounts_list", "created_at")
    Media = LedgerAdminMedia

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("admin_account")
            .annotate(_account_count=Count("accounts", distinct=True))
        )

    @admin.display(description="accounts", ordering="_account_count")
    def account_count(self, obj):
        url = reverse("admin:ledger_account_changelist") + f"?group__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj._account_count)

    @admin.display(description="accounts")
    def accounts_list(self, obj):
        """The group's accounts with their balances (the first few; the full list is the
        account list filtered on the group)."""
        if obj is None or obj.pk is None:
            return "—"
        accounts = list(obj.accounts.order_by("name", "id")[: GROUP_ACCOUNTS_SHOWN + 1])
        if not accounts:
            return "No accounts yet."
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:ledger_account_change", args=[a.pk]),
                    a.name,
                    a.email,
                    money_cell(a.balance),
                )
                for a in accounts[:GROUP_ACCOUNTS_SHOWN]
            ),
        )
        more = ""
        if len(accounts) > GROUP_ACCOUNTS_SHOWN:
            url = reverse("admin:ledger_account_changelist") + f"?group__id__exact={obj.pk}"
            more = format_html('<p><a href="{}">All accounts of this group…</a></p>', url)
        return format_html(
            '<table><thead><tr><th scope="col">Account</th><th scope="col">Email</th>'
            '<th scope="col" style="text-align:right">Balance</th></tr></thead>'
            "<tbody>{}</tbody></table>{}",
            rows,
            more,
        )
