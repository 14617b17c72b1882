"""The account's "Payments" tab in the admin: its statement page and CSV download.

Both views read through ``ledger.selectors`` (keyset paging on ``(account, seq)``,
stored ``balance_after``), so a page costs the same few queries at any history length.
They are wired into ``AccountAdmin.get_urls()`` as ``admin:ledger_account_payments`` and
``admin:ledger_account_payments_csv``, behind ``admin_site.admin_view`` (staff login)
and the model admin's view permission (``ledger.view_account`` or change).
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from ..csv_export import statement_csv_response
from ..models import Account
from ..selectors import statement_page, statement_rows
from ..statements import StatementFilterForm, balance_words, paging_links, period_query


def _account_or_404(model_admin, request, object_id) -> Account:
    account = get_object_or_404(model_admin.get_queryset(request), pk=object_id)
    if not model_admin.has_view_permission(request, account):
        raise PermissionDenied
    return account


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
        "rows": statement_rows(page.rows),
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
