"""The account's "Payments" tab in the admin: its statement page and CSV download.

Both views read through ``ledger.selectors`` (keyset paging on ``(account, seq)``,
stored ``balance_after``), so a page costs the same few queries at any history length.
They are wired into ``AccountAdmin.get_urls()`` as ``admin:ledger_account_payments`` and
``admin:ledger_account_payments_csv``, behind ``admin_site.admin_view`` (staff login)
and the model admin's view permission (``ledger.view_account`` or change).
"""

from datetime import date

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from ..csv_export import statement_csv_response
from ..models import Account
from ..selectors import statement_page
from ..statement_links import paging_links, period_query

# Bounds that keep every date safely convertible to an aware datetime (and one day past).
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2999, 12, 31)


class StatementFilterForm(forms.Form):
    """GET parameters of the tab: ``from``/``to`` (inclusive days), ``before``/``after``
    (keyset cursors: a ``seq``). ``from`` is a Python keyword, hence fields set here."""

    def __init__(self, data=None):
        super().__init__(data)
        date_messages = {"invalid": "Enter a real date as YYYY-MM-DD."}
        for name, label in (("from", "From"), ("to", "To")):
            self.fields[name] = forms.DateField(
                label=label,
                required=False,
                input_formats=["%Y-%m-%d"],
                error_messages=date_messages,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )
        for name in ("before", "after"):
            self.fields[name] = forms.IntegerField(
                required=False,
                min_value=0,
                max_value=2**63 - 1,
                widget=forms.HiddenInput,
                error_messages={
                    key: "The page link is not valid."
                    for key in ("invalid", "min_value", "max_value")
                },
            )

    def _clean_day(self, name):
        day = self.cleaned_data.get(name)
        if day is not None and not MIN_DATE <= day <= MAX_DATE:
            raise forms.ValidationError(
                f"Choose a date between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}."
            )
        return day

    def clean_from(self):
        return self._clean_day("from")

    def clean_to(self):
        return self._clean_day("to")

    def clean(self):
        data = super().clean()
        start, end = data.get("from"), data.get("to")
        if start and end and start > end:
            raise forms.ValidationError(
                f"The start date ({start.isoformat()}) is after the end date "
                f"({end.isoformat()}): choose a start on or before the end."
            )
        if data.get("before") is not None and data.get("after") is not None:
            raise forms.ValidationError("A page link cannot go both older and newer.")
        return data

    def problems(self) -> list[str]:
        """Every error as one readable sentence naming the date field it is about."""
        out = []
        for name, errors in self.errors.items():
            field = self.fields.get(name)
            label = f"{field.label}: " if name in ("from", "to") else ""
            out.extend(f"{label}{message}" for message in errors)
        return out

    def fallback(self) -> str:
        """What the page shows instead when the request had a problem."""
        data = self.cleaned_data
        start, end = data.get("from"), data.get("to")
        inverted = bool(start and end and start > end)
        if "from" in self.errors or "to" in self.errors or inverted:
            start, end = self.period()
            if start or end:
                return "Showing the valid part of the period instead."
            return "Showing the whole history instead."
        return "Showing the newest page instead."

    def period(self) -> tuple[date | None, date | None]:
        """The valid part of the period; an invalid date is left out, and an inverted
        period means the whole history (the page says so)."""
        data = self.cleaned_data if self.is_bound and self.errors is not None else {}
        start, end = data.get("from"), data.get("to")
        if start and end and start > end:
            return None, None
        return start, end

    def cursors(self) -> tuple[int | None, int | None]:
        data = self.cleaned_data if self.is_bound and self.errors is not None else {}
        before, after = data.get("before"), data.get("after")
        if before is not None and after is not None:
            return None, None
        return before, after


def _account_or_404(model_admin, request, object_id) -> Account:
    account = get_object_or_404(model_admin.get_queryset(request), pk=object_id)
    if not model_admin.has_view_permission(request, account):
        raise PermissionDenied
    return account


def balance_words(balance) -> str:
    if balance.amount > 0:
        return "in credit"
    if balance.amount < 0:
        return "in debt"
    return "settled"


def payments_view(model_admin, request, object_id):
    account = _account_or_404(model_admin, request, object_id)
    form = StatementFilterForm(request.GET or None)
    problems = form.problems() if form.is_bound else []
    date_from, date_to = form.period() if form.is_bound else (None, None)
    before, after = form.cursors() if form.is_bound else (None, None)
    page = statement_page(
        account=account, date_from=date_from, date_to=date_to, before=before, after=after
    )
    base = reverse("admin:ledger_account_payments", args=[account.pk])
    csv_url = reverse("admin:ledger_account_payments_csv", args=[account.pk])
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Payments — {account.name}",
        "subtitle": None,
        "opts": opts,
        "app_label": opts.app_label,
        "original": account,
        "account": account,
        "balance_words": balance_words(account.balance),
        "page": page,
        "form": form,
        "problems": problems,
        "fallback": form.fallback() if problems else "",
        "filtered": bool(date_from or date_to),
        "date_from": date_from,
        "date_to": date_to,
        **paging_links(base, page, date_from, date_to, paged=bool(before or after)),
        "csv_url": csv_url + period_query(date_from, date_to),
        "active_tab": "payments",
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/ledger/account/payments.html", context)


def payments_csv_view(model_admin, request, object_id):
    account = _account_or_404(model_admin, request, object_id)
    form = StatementFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return HttpResponse(
            "Cannot export: " + " ".join(form.problems()) + "\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    date_from, date_to = form.period() if form.is_bound else (None, None)
    return statement_csv_response(account, date_from, date_to)
