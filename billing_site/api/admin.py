"""Admin for integration API keys: the full key is shown once, when the key is added."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.utils import timezone

from billing_site.api.models import ApiKey, ApiScope
from ledger.admin.pages import AdminLookMixin


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="What the key may do. 'read' is needed for every GET.",
    )

    class Meta:
        model = ApiKey
        fields = ("name", "scopes", "accounts", "groups")


@admin.register(ApiKey)
class ApiKeyAdmin(AdminLookMixin, admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ("name", "prefix", "scope_list", "restricted", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    filter_horizontal = ("accounts", "groups")
    actions = ["revoke_keys"]

    @admin.display(description="scopes")
    def scope_list(self, obj):
        return ", ".join(obj.scopes or [])

    def get_queryset(self, request):
        # "restricted" for every row of the list in the list's one query (no N+1).
        return (
            super()
            .get_queryset(request)
            .annotate(
                _restricted=Exists(ApiKey.accounts.through.objects.filter(apikey=OuterRef("pk")))
                | Exists(ApiKey.groups.through.objects.filter(apikey=OuterRef("pk")))
            )
        )

    @admin.display(description="restricted", boolean=True)
    def restricted(self, obj):
        return obj._restricted

    def save_model(self, request, obj, form, change):
        if not change:
            raw = obj.set_new_key()
            super().save_model(request, obj, form, change)
            messages.warning(
                request,
                f"API key for '{obj.name}': {raw} — copy it now, it is shown only once "
                "(only its hash is stored). Send it as 'Authorization: Bearer <key>'.",
            )
            return
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the key stays named in the audit trail

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke_keys(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        messages.success(request, f"{count} key(s) revoked.")
