"""Credit notes of the payments use cases (SPEC section 3): a refund of an invoice and the
cancellation of an issued invoice each issue one for every negative ``INVC`` they post
(``ledger.services.issue_credit_notes``), in the same transaction; a refund's notes are
linked to the refund payment (``RefundCreditNote``).

A refund through a gateway posts when the gateway confirms it, and its credit note is
issued then, with the entry it explains.
"""

from ledger import services as ledger
from ledger.models import CreditNote, CreditNoteReason
from ledger.services import Actor

from ..models import Payment, RefundCreditNote


def credit_refund(refund: Payment, entries, *, actor: Actor, reason: str = "") -> list[CreditNote]:
    """The credit notes of a refund's posted ``entries``, each linked to the refund."""
    notes = ledger.issue_credit_notes(
        entries=entries,
        reason=CreditNoteReason.REFUND,
        actor=actor,
        note=reason,
        refund_number=refund.number,
    )
    RefundCreditNote.objects.bulk_create(
        [RefundCreditNote(refund=refund, credit_note=note) for note in notes]
    )
    return notes


def credit_cancellation(entries, *, actor: Actor, reason: str = "") -> list[CreditNote]:
    """The credit note of a cancelled issued invoice (none for a draft: no entry)."""
    return ledger.issue_credit_notes(
        entries=entries, reason=CreditNoteReason.CANCELLATION, actor=actor, note=reason
    )
