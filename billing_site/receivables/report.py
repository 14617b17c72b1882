"""The aged receivables report in the admin (issue 15 item 2): as of any date (today by
default), per account or per account group, one currency or all, with the totals per
currency; the same figures streamed as CSV and rendered as PDF. All four faces — this
page, the CSV, the PDF and the overview — read ``payments.selectors.aging``."""

import csv

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from billing_site.documents.pdf import pdf_download, render_pdf
from ledger.csv_export import Echo, safe_text
from ledger.models import Invoice
from payments.selectors.aging import (
    BUCKET_LABELS,
    BUCKETS,
    BY_ACCOUNT,
    BY_GROUP,
    COLUMNS,
    Aging,
    aging,
)

PERMISSION = "ledger.view_invoice"
PAGE_SIZE = 200


class AgingForm(forms.Form):
    as_of = forms.DateField(
        label="As of",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The end of this day (empty: today).",
    )
    by = forms.ChoiceField(
        label="Per",
        choices=((BY_ACCOUNT, "account"), (BY_GROUP, "account group")),
        required=False,
    )
    currency = forms.ChoiceField(
        choices=(("", "All currencies"), *((c, c) for c in settings.CURRENCIES)), required=False
    )

    def cleaned(self) -> dict:
        data = self.cleaned_data
        return {
            "as_of": data.get("as_of") or timezone.localdate(),
            "by": data.get("by") or BY_ACCOUNT,
            "currency": data.get("currency") or None,
        }


def _check(request) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied("You are not allowed to see invoices.")


def _report(request) -> tuple[AgingForm, Aging | None]:
    _check(request)
    form = AgingForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return form, None
    if not form.is_bound:
        form = AgingForm({"as_of": timezone.localdate(), "by": BY_ACCOUNT, "currency": ""})
        form.is_valid()
    return form, aging(**form.cleaned())


def row_url(report: Aging, row) -> str:
    """An account's row links to its account page, a group's to the group's."""
    if report.by == BY_ACCOUNT:
        return reverse("admin:ledger_account_change", args=[row.account_id])
    if row.group_id:
        return reverse("admin:ledger_accountgroup_change", args=[row.group_id])
    return ""


def _query(request) -> str:
    """The report's query string without its page (for the CSV, PDF and page links)."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def aging_page(site, request):
    form, report = _report(request)
    context = {
        **site.each_context(request),
        "title": "Aged receivables",
        "crumbs": [
            ("Invoices", reverse("admin:ledger_invoice_changelist")),
            ("Aged receivables", None),
        ],
        "form": form,
        "report": report,
        "columns": [(b, BUCKET_LABELS[b]) for b in BUCKETS],
        "opts": Invoice._meta,
    }
    status = 200
    if report is None:
        status = 400
    else:
        page = Paginator(report.rows, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [(row, row_url(report, row)) for row in page.object_list]
        query = _query(request)
        context.update(
            page=page,
            rows=rows,
            totals=list(report.totals.values()),
            query=query,
            csv_url=f"{reverse('admin:receivables_aging_csv')}?{query}",
            pdf_url=f"{reverse('admin:receivables_aging_pdf')}?{query}",
        )
    request.current_app = site.name
    return TemplateResponse(request, "admin/receivables/aging.html", context, status=status)


def _refused(site, request, form):
    context = {**site.each_context(request), "title": "Aged receivables", "form": form}
    return TemplateResponse(request, "admin/receivables/aging.html", context, status=400)


def csv_lines(report: Aging):
    """The report as CSV lines: a header row, one row per account (or group) and
    currency, then one total row per currency; amounts as plain decimals, names guarded
    against spreadsheet formulas as the statement's are."""
    writer = csv.writer(Echo())
    key = ["account_id", "account", "group"] if report.by == BY_ACCOUNT else ["group_id", "group"]
    yield writer.writerow(["as_of", *key, "currency", *COLUMNS, "invoices"])
    as_of = report.as_of.isoformat()
    for row in report.rows:
        if report.by == BY_ACCOUNT:
            who = [row.account_id, safe_text(row.name), safe_text(row.group_name)]
        else:
            who = [row.group_id or "", safe_text(row.name)]
        figures = [str(amount) for amount in row.amounts]  # at the currency's precision
        yield writer.writerow([as_of, *who, row.currency, *figures, row.invoices])
    total = ["", "Total", ""] if report.by == BY_ACCOUNT else ["", "Total"]
    for row in report.totals.values():
        figures = [str(amount) for amount in row.amounts]
        yield writer.writerow([as_of, *total, row.currency, *figures, row.invoices])


def _filename(report: Aging, extension: str) -> str:
    suffix = f"-{report.currency}" if report.currency else ""
    return f"aged-receivables-{report.as_of.isoformat()}-{report.by}{suffix}.{extension}"


def aging_csv(site, request):
    form, report = _report(request)
    if report is None:
        return _refused(site, request, form)
    response = StreamingHttpResponse(csv_lines(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, "csv")}"'
    response["Cache-Control"] = "no-store"
    return response


def pdf_html(report: Aging, *, generated_at=None) -> str:
    """The HTML the PDF is rendered from (every row, no pagination)."""
    return render_to_string(
        "admin/receivables/aging_pdf.html",
        {
            "report": report,
            "rows": report.rows,
            "totals": list(report.totals.values()),
            "columns": [(b, BUCKET_LABELS[b]) for b in BUCKETS],
            "generated_at": generated_at or timezone.now(),
        },
    )


def aging_pdf(site, request):
    form, report = _report(request)
    if report is None:
        return _refused(site, request, form)
    return pdf_download(render_pdf(pdf_html(report)), _filename(report, "pdf"))
