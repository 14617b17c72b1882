"""Dunning reminders in the admin (issue 15 item 4): the reminder levels (list, add,
change — saved through ``dunning.save_level``; deactivated, never deleted), the reminders
(read-only, filtered by level and status), the account's *Reminders* tab (its reminders,
*Exclude from reminders* / *Include in reminders*) and, for the invoice page, the form and
message of *Send reminder now* (``invoice_actions``). Every write goes through
``payments.services.dunning``."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone

from ledger.admin.display import LedgerAdminMedia
from ledger.admin.pages import AdminLookMixin
from ledger.errors import BillingError
from ledger.services import user_actor

from ..models import DunningExclusion, Reminder, ReminderLevel, ReminderStatus
from ..services import dunning
from .account_tabs import AccountTabMixin
from .invoice_extras import invoice_figures

# --- send reminder now (an invoice action) ---------------------------------------------


class ReminderNowForm(forms.Form):
    level = forms.ModelChoiceField(
        queryset=ReminderLevel.objects.none(),
        help_text="Each level goes once per invoice; earlier levels not sent are skipped.",
    )

    def __init__(self, *args, obj=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["level"]
        field.queryset = ReminderLevel.objects.filter(is_active=True).order_by("offset_days")
        if obj is not None:
            done = {r.level_id: r for r in Reminder.objects.filter(invoice=obj)}
            nxt = dunning.next_level_for(obj)
            field.initial = nxt.pk if nxt else None
            field.label_from_instance = lambda lv: (
                f"{lv.name} — {lv.when}"
                + (
                    f" (already {done[lv.pk].get_status_display().lower()})"
                    if lv.pk in done
                    else ""
                )
            )


def reminder_figures(invoice) -> list[tuple[str, object]]:
    rows = invoice_figures(invoice)
    for r in Reminder.objects.filter(invoice=invoice).select_related("level").order_by("id"):
        rows.append((f"Reminder '{r.level.name}'", f"{r.get_status_display()} {r.sent_to}"))
    return rows


def reminder_refusal(invoice) -> str | None:
    exclusion = DunningExclusion.objects.filter(account_id=invoice.account_id).first()
    if exclusion is not None:
        return f"account {invoice.account.name} is excluded from reminders ({exclusion.reason})"
    return None


def reminder_done(invoice, reminder: Reminder):
    reminder.refresh_from_db()  # the email was tried when the action's transaction ended
    what = f"Reminder '{reminder.level.name}' for invoice {invoice}"
    if reminder.status == ReminderStatus.SENT:
        return f"{what} sent to {reminder.sent_to}."
    if reminder.status == ReminderStatus.FAILED:
        return (
            f"{what} NOT sent: the email to {reminder.sent_to} failed ({reminder.error}); "
            "the next reminder run tries again.",
            messages.WARNING,
        )
    return (f"{what}: {reminder.get_status_display().lower()} {reminder.error}", messages.WARNING)


# --- levels ------------------------------------------------------------------------------


@admin.register(ReminderLevel)
class ReminderLevelAdmin(AdminLookMixin, admin.ModelAdmin):
    list_display = ("name", "when", "subject", "is_active")
    list_filter = ("is_active",)
    fields = ("name", "offset_days", "subject", "body", "is_active")
    ordering = ("offset_days", "id")
    Media = LedgerAdminMedia

    @admin.display(description="Sent", ordering="offset_days")
    def when(self, obj):
        return obj.when

    def has_delete_permission(self, request, obj=None):
        return False  # reminders name their level: deactivate it instead

    def save_model(self, request, obj, form, change):
        data = {name: getattr(obj, name) for name in dunning.LEVEL_FIELDS}
        saved = dunning.save_level(
            level=obj.pk if change else None, actor=user_actor(request.user), **data
        )
        obj.pk, obj.created_at = saved.pk, saved.created_at


# --- reminders (read-only) and the account's tab ---------------------------------------

SHOWN = (
    "invoice",
    "level",
    "account",
    "status",
    "trigger",
    "actor_label",
    "sent_to",
    "subject",
    "body",
    "pay_url",
    "created_at",
    "sent_at",
    "attempts",
    "error",
)


class ExclusionForm(forms.Form):
    reason = forms.CharField(max_length=255, help_text="Why this account gets no reminders.")


@admin.register(Reminder)
class ReminderAdmin(AccountTabMixin, AdminLookMixin, admin.ModelAdmin):
    list_display = ("invoice", "level", "account", "status", "sent_to", "trigger", "created_at")
    list_filter = ("level", "status", "trigger")
    search_fields = ("invoice__number", "account__name", "sent_to")
    list_select_related = ("invoice", "level", "account")
    fields = SHOWN
    readonly_fields = SHOWN
    Media = LedgerAdminMedia

    def has_add_permission(self, request):
        return False  # decided by the run or *Send reminder now*, through the service

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        own = [
            path(
                "account/<int:account_id>/",
                wrap(self.account_view),
                name="payments_account_reminders",
            ),
            path(
                "account/<int:account_id>/exclude/",
                wrap(self.exclude_view),
                name="payments_account_dunning_exclude",
            ),
            path(
                "account/<int:account_id>/include/",
                wrap(self.include_view),
                name="payments_account_dunning_include",
            ),
        ]
        return own + super().get_urls()

    def account_view(self, request, account_id):
        account = self._account(request, account_id, "payments.view_reminder", "see reminders")
        rows = (
            Reminder.objects.filter(account=account)
            .select_related("invoice", "level")
            .order_by("-created_at", "-id")[:500]
        )
        return self._page(
            request,
            "admin/payments/dunning_account.html",
            account,
            "Reminders",
            reminders=list(rows),
            exclusion=DunningExclusion.objects.filter(account=account).first(),
            active_tab="reminders",
        )

    def _write(self, request, account, title, form, run, done: str, help_text: str):
        back = reverse("admin:payments_account_reminders", args=[account.pk])
        if request.method == "POST" and (form is None or form.is_valid()):
            try:
                run(form.cleaned_data if form else {})
            except BillingError as exc:
                self.message_user(request, exc.detail, messages.ERROR)
                if form is None:
                    return HttpResponseRedirect(back)
            else:
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(back)
        return self._page(
            request,
            "admin/object_action.html",
            account,
            title,
            form=form,
            action_label=title,
            action_help=help_text,
            figures=[("Account", f"{account.name} — {account.email}")],
            back_url=back,
        )

    def exclude_view(self, request, account_id):
        account = self._account(
            request, account_id, "payments.add_dunningexclusion", "exclude accounts from reminders"
        )
        actor = user_actor(request.user)
        return self._write(
            request,
            account,
            "Exclude from reminders",
            ExclusionForm(request.POST or None),
            lambda d: dunning.exclude_account(account=account.pk, reason=d["reason"], actor=actor),
            f"{account.name} is excluded from reminders: neither the reminder run nor "
            "Send reminder now will email it.",
            "The account gets no reminder emails until it is included again.",
        )

    def include_view(self, request, account_id):
        account = self._account(
            request, account_id, "payments.delete_dunningexclusion", "include accounts again"
        )
        actor = user_actor(request.user)
        return self._write(
            request,
            account,
            "Include in reminders",
            None,
            lambda d: dunning.include_account(account=account.pk, actor=actor),
            f"{account.name} gets reminders again from {timezone.localdate():%d %b %Y}: "
            "levels due meanwhile go with the next reminder run.",
            "The reminder run emails this account again; so may staff.",
        )
