"""The member's invoices: the list, one invoice (lines, payments, credit memos), its PDF.

Drafts — and drafts cancelled before they were issued — are the finance team's
working papers, not the member's invoices: they are a 404 here like another member's.
The payments and credit memos applied to an invoice are read through its reverse
relations (``invoice.allocations``, ``invoice.credit_memos``), so this app still
imports neither ``payments`` nor ``wallets``.

*Pay now* (list and page) is a POST with the CSRF token: it reuses or creates the
invoice's payment link (``payments.services.member_links``) and redirects to it; the
card is typed on the link's page, as from an emailed link.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from billing_site.documents.pdf import pdf_response
from billing_site.portal.views.common import account_context, member_account
from billing_site.portal.views.invoice_rows import invoice_views
from ledger.errors import BillingError
from ledger.models import Invoice, InvoiceStatus
from ledger.services import user_actor
from payments.services import link_token
from payments.services.member_links import member_payment_link

INVOICES_PER_PAGE = 50

MEMBER_VISIBLE = ~Q(status=InvoiceStatus.DRAFT) & ~Q(
    status=InvoiceStatus.CANCELLED, number__isnull=True
)


def member_invoices(account):
    return Invoice.objects.filter(MEMBER_VISIBLE, account_id=account.pk).order_by(
        F("issue_date").desc(nulls_first=True), "-id"
    )


@login_required
def invoice_list(request, account_id: int):
    account = member_account(request, account_id)
    page = Paginator(member_invoices(account), INVOICES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "member/invoices.html",
        {
            **account_context(account, "invoices"),
            "rows": invoice_views(page.object_list),
            "page_obj": page,
        },
    )


def _invoice_context(request, account_id: int, invoice_id: int) -> dict:
    account = member_account(request, account_id)
    invoice = get_object_or_404(member_invoices(account), pk=invoice_id)
    allocations = invoice.allocations.select_related("payment").order_by("created_at", "id")
    memos = invoice.credit_memos.select_related("wallet", "invoice_line").order_by(
        "created_at", "id"
    )
    return {
        **account_context(account, "invoices"),
        "invoice": invoice,
        "view": invoice_views([invoice])[0],
        "lines": list(invoice.lines.all()),
        "allocations": list(allocations),
        "memos": list(memos),
    }


@login_required
def invoice_detail(request, account_id: int, invoice_id: int):
    return render(request, "member/invoice.html", _invoice_context(request, account_id, invoice_id))


@login_required
def invoice_pdf(request, account_id: int, invoice_id: int):
    context = _invoice_context(request, account_id, invoice_id)
    invoice = context["invoice"]
    name = invoice.number or f"ongoing-{invoice.pk}"
    return pdf_response("member/invoice.html", context, f"invoice-{name}.pdf", request)


@login_required
@require_POST
def pay_now(request, account_id: int, invoice_id: int):
    """The member's *Pay now*: to the invoice's payment link (reused, or a new one)."""
    account = member_account(request, account_id)
    invoice = get_object_or_404(member_invoices(account), pk=invoice_id)
    try:
        link = member_payment_link(invoice=invoice.pk, actor=user_actor(request.user))
    except BillingError as exc:
        messages.error(request, exc.detail)
        return redirect("member-invoice", account.pk, invoice.pk)
    return redirect("payment-link", token=link_token(link))
