"""The member's credit notes: the PDF of a credit note of one of their invoices.

Listed on the invoice page (``member/_credit_notes.html``, reading the invoice's
``credit_notes``). Read through the account the member may see, so another member's
credit note is a 404 like one that does not exist. The PDF is the documents layer's,
the same bytes staff download.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404

from billing_site.documents.credit_notes import credit_note_download
from billing_site.portal.views.common import member_account
from ledger.models import CreditNote


@login_required
def credit_note_pdf(request, account_id: int, credit_note_id: int):
    account = member_account(request, account_id)
    note = get_object_or_404(CreditNote.objects.filter(account_id=account.pk), pk=credit_note_id)
    return credit_note_download(note)
