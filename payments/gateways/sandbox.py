"""The sandbox gateway shipped with Billfold: it behaves like a real one.

Outcomes arrive later as signed webhook events, queued as ``SandboxEvent`` rows that
``manage.py deliver_sandbox_events`` delivers when due (through the same code path as
an HTTP webhook). Test card numbers decide the outcome:

- ``4242 4242 4242 4242``: succeeds a minute later;
- ``4000 0000 0000 0002``: declined ("card declined: insufficient funds");
- ``4000 0000 0000 0259``: succeeds, then a chargeback arrives a day later.

Direct debits stay ``processing`` until a confirmation three days later; an IBAN
ending in ``0002`` is returned a day after that confirmation (a SEPA return: the
collection failed). A mandate registered with such an IBAN is returned the same way:
the sandbox's mandate id ends with the IBAN's last four characters, which is all the
sandbox needs to remember of it.

Refunds are confirmed (``refund.succeeded``) a minute later, except a refund of an
amount whose pence are ``.13``, which fails (``refund.failed``: "card account closed").
"""

import json
import secrets
from datetime import timedelta

from django.utils import timezone

from .base import Gateway, Started

CARD_SUCCESS = "4242424242424242"
CARD_DECLINE = "4000000000000002"
CARD_CHARGEBACK = "4000000000000259"
IBAN_RETURNED_SUFFIX = "0002"
REFUND_FAILS_PENCE = "13"


class SandboxGateway(Gateway):
    def _queue(self, kind: str, reference: str, delay: timedelta, **data) -> None:
        from ..models import SandboxEvent

        body = {
            "id": f"evt_{secrets.token_hex(12)}",
            "type": kind,
            "payment_reference": reference,
            "created": timezone.now().isoformat(),
            **data,
        }
        SandboxEvent.objects.create(gateway=self.name, body=body, due_at=timezone.now() + delay)

    def start_card_payment(self, payment, *, card_number: str) -> Started:
        reference = f"sbx_ch_{secrets.token_hex(10)}"
        digits = "".join(c for c in card_number if c.isdigit())
        self._queue("payment.processing", reference, timedelta(0))
        if digits == CARD_DECLINE:
            self._queue(
                "payment.failed",
                reference,
                timedelta(seconds=5),
                reason="card declined: insufficient funds",
            )
        else:
            self._queue("payment.succeeded", reference, timedelta(minutes=1))
            if digits == CARD_CHARGEBACK:
                self._queue("payment.disputed", reference, timedelta(days=1), reason="fraudulent")
        return Started(reference)

    def start_direct_debit(self, payment, *, iban: str) -> Started:
        reference = f"sbx_dd_{secrets.token_hex(10)}"
        self._queue("payment.processing", reference, timedelta(0))
        self._queue("payment.succeeded", reference, timedelta(days=3))
        if iban.replace(" ", "").endswith(IBAN_RETURNED_SUFFIX):
            self._queue(
                "payment.returned", reference, timedelta(days=4), reason="MD06 refund request"
            )
        return Started(reference)

    def register_mandate(self, *, iban: str, reference: str) -> str:
        return f"sbx_md_{secrets.token_hex(8)}_{iban.replace(' ', '')[-4:]}"

    def start_mandate_debit(self, payment, *, mandate: str) -> Started:
        return self.start_direct_debit(payment, iban=mandate)

    def refund(self, refund_payment, *, original) -> Started:
        reference = f"sbx_re_{secrets.token_hex(10)}"
        if f"{refund_payment.amount.amount:.2f}".endswith(f".{REFUND_FAILS_PENCE}"):
            self._queue(
                "refund.failed", reference, timedelta(minutes=1), reason="card account closed"
            )
        else:
            self._queue("refund.succeeded", reference, timedelta(minutes=1))
        return Started(reference)

    def signed_delivery(self, body: dict) -> tuple[bytes, str]:
        raw = json.dumps(body, sort_keys=True).encode()
        return raw, self.sign(raw)
