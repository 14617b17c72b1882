"""Staff admin of the payments app. Registered here: invoices (their page carries the
payment actions), wallets (top-up is a payment), payment transitions, gateway events,
payment links, sandbox events, direct-debit mandates (and the account's *Mandates*
tab), dunning reminders (levels, reminders, the account's *Reminders* tab), billing
runs (the runs, their items, *Close billing period*).
``PaymentAdmin`` is defined here and registered by the documents layer, which
adds the receipt PDF and *send receipt*."""

from . import billing_runs, dunning, gateways, groups, invoices, mandates, wallets
from .payments import PaymentAdmin, PaymentTransitionAdmin

__all__ = [
    "PaymentAdmin",
    "PaymentTransitionAdmin",
    "billing_runs",
    "dunning",
    "gateways",
    "groups",
    "invoices",
    "mandates",
    "wallets",
]
