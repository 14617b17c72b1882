"""Member pages of the payments app: the account's receipts and their PDF downloads.

Only receipts that were sent to the member (``receipt_sent_at`` set) are listed or
downloadable; everything is read through the account the member may see, so another
member's payment id is a 404.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from billing_site.documents.receipts import render_receipt_pdf
from billing_site.portal.views.common import account_context, member_account
from payments.models import Payment


def sent_receipts(account):
    return Payment.objects.filter(account_id=account.pk, receipt_sent_at__isnull=False).order_by(
        "-receipt_sent_at", "-id"
    )


@login_required
def receipt_list(request, account_id: int):
    account = member_account(request, account_id)
    return render(
        request,
        "member/receipts.html",
        {
            **account_context(account, "receipts"),
            "receipts": list(sent_receipts(account).select_related("invoice")),
        },
    )


@login_required
def receipt_pdf(request, account_id: int, payment_id: int):
    account = member_account(request, account_id)
    payment = get_object_or_404(sent_receipts(account).select_related("account"), pk=payment_id)
    response = HttpResponse(render_receipt_pdf(payment), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{payment.receipt_number}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
