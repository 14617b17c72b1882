"""Payment numbers: random, unguessable, unique. The generator is pluggable through the
``BILLFOLD_PAYMENT_NUMBER_GENERATOR`` setting (a dotted path to a callable returning
a string of at most 40 characters)."""

import secrets

from django.conf import settings
from django.utils.module_loading import import_string

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read aloud


def random_number() -> str:
    """'P-7KQ2-M9XW-3HTA-ZP4C': 80 bits of randomness."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(16))
    return "P-" + "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def new_payment_number() -> str:
    path = getattr(settings, "BILLFOLD_PAYMENT_NUMBER_GENERATOR", None)
    generator = import_string(path) if path else random_number
    return generator()
