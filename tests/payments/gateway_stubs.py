"""Gateways for the tests: the sandbox's behaviour with a call that fails, or that
waits for the test (to look at the database while the call is in progress), and a card
gateway that is not the sandbox. Configured with ``use_gateway(settings, Class)``."""

import threading

from django.conf import settings as django_settings

from payments.gateways.base import Gateway, Started
from payments.gateways.sandbox import SandboxGateway


def use_gateway(settings, cls) -> None:
    """Serve card and direct-debit payments with ``cls``, as the "sandbox" gateway (the
    webhook URL and the secret stay the test settings')."""
    secret = django_settings.BILLFOLD_GATEWAYS["sandbox"]["secret"]
    settings.BILLFOLD_GATEWAYS = {
        "sandbox": {
            "class": f"{cls.__module__}.{cls.__qualname__}",
            "secret": secret,
            "methods": ["card", "direct_debit"],
        }
    }


class UnreachableGateway(SandboxGateway):
    """Every outgoing call fails as a network error would."""

    def start_card_payment(self, payment, *, card_number):
        raise ConnectionError("gateway unreachable")

    def start_direct_debit(self, payment, *, iban):
        raise ConnectionError("gateway unreachable")

    def refund(self, refund_payment, *, original):
        raise TimeoutError("gateway timed out")


class SlowGateway(SandboxGateway):
    """The sandbox, but each call waits until the test sets ``release`` (it sets
    ``entered`` when the call has started)."""

    entered = threading.Event()
    release = threading.Event()

    def start_card_payment(self, payment, *, card_number):
        SlowGateway.entered.set()
        assert SlowGateway.release.wait(30), "the test never released the call"
        return super().start_card_payment(payment, card_number=card_number)


class EagerGateway(SandboxGateway):
    """A gateway whose success webhook arrives before its answer to the call does."""

    def start_card_payment(self, payment, *, card_number):
        from payments.services.webhooks import receive

        started = super().start_card_payment(payment, card_number=card_number)
        body, signature = self.signed_delivery(
            {"id": "evt_eager", "type": "payment.succeeded", "payment_reference": started.reference}
        )
        self.answer = receive(self.name, body, signature)
        EagerGateway.answers.append(self.answer)
        return started

    answers: list = []


class RealCardGateway(Gateway):
    """A card gateway that is not the sandbox (no test cards)."""

    def start_card_payment(self, payment, *, card_number):
        return Started(f"real_{payment.pk}")

    def start_direct_debit(self, payment, *, iban):
        return Started(f"real_dd_{payment.pk}")

    def refund(self, refund_payment, *, original):
        return Started(f"real_re_{refund_payment.pk}")
