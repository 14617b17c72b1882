"""Pieces of the invoice admin: the money summary at the top of its page (and of every
action's form), the due-date and overdue filters of its list, and the bulk actions
(issue and cancel several invoices, each in its own transaction)."""

from datetime import timedelta

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Q
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html

from ledger.errors import BillingError
from ledger.models import Invoice, InvoiceStatus, LedgerEntry
from ledger.models.invoices import OPEN
from ledger.money import format_money
from ledger.selectors import amount_owed, is_overdue
from ledger.services import user_actor

from .. import services


def due_words(invoice: Invoice) -> str:
    """What the invoice asks for now, in words when it is nothing."""
    if invoice.status == InvoiceStatus.CANCELLED:
        return "nothing (cancelled)"
    if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.ONGOING):
        return f"nothing yet ({invoice.get_status_display().lower()})"
    return format_money(amount_owed(invoice))


def paid_words(invoice: Invoice):
    """What the invoice keeps of the money paid for it. The figures add up (total = paid
    + prepaid + refunded + due), so after a refund "Paid" is net and says so."""
    if not invoice.amount_refunded.amount:
        return invoice.amount_paid
    return (
        f"{format_money(invoice.amount_paid)} ({format_money(invoice.amount_received)} "
        f"received, less {format_money(invoice.amount_refunded)} refunded)"
    )


def invoice_figures(invoice: Invoice) -> list[tuple[str, object]]:
    """The money story of an invoice: total, paid, prepaid, refunded, due."""
    late = bool(invoice.due_date) and is_overdue(invoice)
    status = invoice.get_status_display()
    if late:  # the badge the list and the member's pages show
        status = format_html('{} <span class="billfold-overdue">Overdue</span>', status)
    rows = [
        ("Invoice", f"{invoice} — {invoice.account.name}"),
        ("Status", status),
        ("Total", invoice.total),
        ("Paid", paid_words(invoice)),
        ("Prepaid by credit memos", invoice.amount_credited),
        ("Refunded", invoice.amount_refunded),
        ("Due", due_words(invoice)),
    ]
    if invoice.due_date:
        when = f"{invoice.due_date:%d %b %Y}"
        if late:
            days = (timezone.localdate() - invoice.due_date).days
            when = format_html(
                '{} — <span class="billfold-overdue">overdue by {} day{}</span>',
                when,
                days,
                "" if days == 1 else "s",
            )
        rows.append(("Due date", when))
    return rows


def overdue_q(today=None) -> Q:
    """Open invoices past their due date: an open invoice (due, partially paid,
    disputed) always has money owed — it becomes paid when nothing is."""
    return Q(status__in=OPEN, due_date__lt=today or timezone.localdate())


def aging_q(bucket: str, today=None) -> Q:
    """Open invoices (what is owed today) in one aging bucket of days past due — the
    buckets of ``payments.selectors.aging`` as of today: ``owed`` (all of them),
    ``not-due`` (no due date, or due today or later), ``1-30``, ``31-60``, ``61-90``,
    ``over-90``."""
    today = today or timezone.localdate()
    owed = Q(status__in=OPEN)
    if bucket == "owed":
        return owed
    if bucket == "not-due":
        return owed & (Q(due_date__isnull=True) | Q(due_date__gte=today))
    if bucket == "over-90":
        return owed & Q(due_date__lt=today - timedelta(days=90))
    low, high = (int(days) for days in bucket.split("-"))
    return owed & Q(
        due_date__lte=today - timedelta(days=low), due_date__gte=today - timedelta(days=high)
    )


AGING_LOOKUPS = (
    ("owed", "Owed (open invoices)"),
    ("not-due", "Owed, not yet due"),
    ("1-30", "1–30 days overdue"),
    ("31-60", "31–60 days overdue"),
    ("61-90", "61–90 days overdue"),
    ("over-90", "Over 90 days overdue"),
)


class OverdueFilter(admin.SimpleListFilter):
    """Overdue or not, and the aging buckets the finance overview links to."""

    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return (("yes", "Overdue (past due, money owed)"), ("no", "Not overdue"), *AGING_LOOKUPS)

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(overdue_q())
        if self.value() == "no":
            return queryset.exclude(overdue_q())
        if self.value() in dict(AGING_LOOKUPS):
            return queryset.filter(aging_q(self.value()))
        return queryset


class DueDateFilter(admin.SimpleListFilter):
    title = "due date"
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return (
            ("past", "Past due"),
            ("7", "Due in the next 7 days"),
            ("30", "Due in the next 30 days"),
            ("none", "No due date"),
        )

    def queryset(self, request, queryset):
        today = timezone.localdate()
        value = self.value()
        if value == "past":
            return queryset.filter(due_date__lt=today)
        if value in ("7", "30"):
            return queryset.filter(
                due_date__gte=today, due_date__lte=today + timedelta(days=int(value))
            )
        if value == "none":
            return queryset.filter(due_date__isnull=True)
        return queryset


def _reversal_words(cancelled: Invoice) -> str:
    if not cancelled.number:
        return ""
    reversal = LedgerEntry.objects.filter(invoice=cancelled, debit__lt=0).order_by("-seq").first()
    if reversal is None:
        return ""
    return f"; {format_money(-reversal.debit)} credited back to the account"


class InvoiceBulkActionsMixin:
    """Issue or cancel several invoices from the list: a confirmation page first, then
    each invoice on its own transaction, one that is refused reported and skipped."""

    actions = ("issue_selected", "cancel_selected")

    def _confirm(self, request, queryset, *, action, title, verb, form=None):
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": opts,
            "app_label": opts.app_label,
            "invoices": queryset,
            "action": action,
            "verb": verb,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/ledger/invoice/action_confirmation.html", context)

    def _selected(self, queryset):
        return list(queryset.select_related("account").order_by("created_at", "pk"))

    def _each(self, request, invoices, run, words):
        for invoice in invoices:
            try:
                with transaction.atomic():  # one invoice, one transaction
                    done = run(invoice)
            except BillingError as exc:
                self.message_user(request, exc.detail, messages.ERROR)
            else:
                self.message_user(request, words(invoice, done), messages.SUCCESS)

    @admin.action(
        description="Issue selected invoices (number them and post to the ledger)",
        permissions=["change"],
    )
    def issue_selected(self, request, queryset):
        invoices = self._selected(queryset)
        if request.POST.get("post") != "yes":
            return self._confirm(
                request, invoices, action="issue_selected", title="Issue invoices", verb="Issue"
            )
        actor = user_actor(request.user)
        self._each(
            request,
            invoices,
            lambda inv: services.issue_invoice(invoice=inv.pk, actor=actor),
            issued_words,
        )
        return None

    @admin.action(description="Cancel selected invoices", permissions=["change"])
    def cancel_selected(self, request, queryset):
        from ledger.admin.invoice_forms import CancelReasonForm

        invoices = self._selected(queryset)
        form = CancelReasonForm(request.POST if request.POST.get("post") == "yes" else None)
        if not form.is_bound or not form.is_valid():
            return self._confirm(
                request,
                invoices,
                action="cancel_selected",
                title="Cancel invoices",
                verb="Cancel",
                form=form,
            )
        actor, reason = user_actor(request.user), form.cleaned_data["reason"].strip()
        self._each(
            request,
            invoices,
            lambda inv: services.cancel_invoice(invoice=inv.pk, actor=actor, reason=reason),
            cancelled_words,
        )
        return None


def issued_words(invoice: Invoice, issued: Invoice) -> str:
    credit = issued.amount_paid
    applied = f"; {format_money(credit)} of account credit applied" if credit.amount > 0 else ""
    return (
        f"Invoice {issued.number} issued to {invoice.account.name}: "
        f"{format_money(issued.total)} posted, due {issued.due_date:%d %b %Y}{applied}."
    )


def cancelled_words(invoice: Invoice, cancelled: Invoice) -> str:
    return f"Invoice {cancelled} cancelled{_reversal_words(cancelled)}."
