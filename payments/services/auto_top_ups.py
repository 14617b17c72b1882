"""Automatic top-ups (issue 14 item 5; docs/RULES.md "Automatic top-ups"): open the
``top_up`` payment a wallet's rule asks for, collected by direct debit under the
account's active mandate, or else left waiting and the member told by email.

``run_auto_top_up`` is the one writer: under the account and wallet locks it checks the
rule still applies (enabled; the wallet still below its threshold, or the month's day
reached and the month not run yet), that no automatic top-up of the wallet is still open
(``AutoTopUpRun``: one open per wallet, a partial unique index), works out the amount
(fixed, or up to the target), opens the payment and records the run. The gateway call
and the email leave after commit (``start_direct_debit``'s own after-commit send).
"""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from moneyed import Money

from ledger import services as ledger
from ledger.errors import StateConflict
from ledger.money import format_money
from ledger.services import Actor, system_actor
from wallets import services as wallets
from wallets.models import AutoTopUp, AutoTopUpTrigger, Wallet
from wallets.services.alerts import send_notice

from ..models import AutoTopUpRun, Payment, PaymentLink, PaymentStatus, PaymentType
from .common import create_payment, lock_payment
from .gateway_flows import link_url, start_direct_debit

S = PaymentStatus
ENDED = (S.COMPLETED, S.CANCELLED, S.EXPIRED, S.PAID_FROM_BALANCE)
ACTOR_LABEL = "automatic top-up"


def _still_open(wallet: Wallet, now: datetime) -> bool:
    """Whether an automatic top-up of the (locked) wallet is still open; one whose payment
    has ended is closed here."""
    run = AutoTopUpRun.objects.filter(wallet=wallet, closed_at__isnull=True).first()
    if run is None:
        return False
    status = Payment.objects.values_list("status", flat=True).get(pk=run.payment_id)
    if status not in ENDED:
        return True
    run.closed_at = now
    run.save(update_fields=["closed_at"])
    return False


def _amount(rule: AutoTopUp, wallet: Wallet) -> Money:
    if rule.amount is not None:
        return rule.amount
    return rule.target - wallet.available


def _due(rule: AutoTopUp, wallet: Wallet, trigger: str, now: datetime) -> str | None:
    """The run's period ("" for a threshold rule) if the rule applies now, else None."""
    if rule.trigger != trigger or not rule.enabled or not wallet.is_active:
        return None
    if trigger == AutoTopUpTrigger.BELOW_THRESHOLD:
        return "" if wallet.low_balance_alert_seq is not None else None
    local = timezone.localtime(now)
    period = f"{local:%Y-%m}"
    if local.day < rule.day_of_month or rule.last_period == period:
        return None
    return period


def run_auto_top_up(
    *, wallet: Wallet | int, trigger: str, actor: Actor | None = None, now=None
) -> Payment | None:
    """Open the wallet's automatic top-up if its rule applies now; the payment, or None
    (no rule, not due, one still open, nothing to add)."""
    actor = actor or system_actor(ACTOR_LABEL)
    now = now or timezone.now()
    wallet_id = wallet.pk if isinstance(wallet, Wallet) else int(wallet)
    with transaction.atomic():
        account_id = Wallet.objects.values_list("account_id", flat=True).get(pk=wallet_id)
        account = ledger.lock_account(account_id)
        locked = wallets.lock_wallet(wallet_id)
        rule = AutoTopUp.objects.select_for_update(no_key=True).filter(wallet=locked).first()
        period = None if rule is None else _due(rule, locked, trigger, now)
        if period is None or _still_open(locked, now):
            return None
        if period:
            rule.last_period = period
        rule.last_triggered_at = now
        rule.save(update_fields=["last_period", "last_triggered_at", "updated_at"])
        amount = _amount(rule, locked)
        if amount.amount <= 0:
            return None  # already at the target
        from ..selectors import active_mandate

        mandate = active_mandate(account)
        payment = create_payment(
            account=account,
            type=PaymentType.TOP_UP,
            amount=amount,
            actor=actor,
            wallet=locked,
            reason=f"automatic top-up of wallet '{locked.name}'",
        )
        AutoTopUpRun.objects.create(
            wallet=locked,
            payment=payment,
            trigger=trigger,
            period=period,
            by_direct_debit=mandate is not None,
            created_at=now,
        )
        if mandate is not None:
            return start_direct_debit(payment=payment.pk, mandate=mandate, actor=actor)
        link = create_top_up_link(payment=payment, actor=actor)
        transaction.on_commit(lambda: send_top_up_email(payment.pk, link.pk))
        return payment


def create_top_up_link(*, payment: Payment | int, actor: Actor, days: int | None = None):
    """A payment link (signed, expiring, unguessable) for a waiting ``top_up`` payment:
    the member pays it by card on the same page as an invoice's link."""
    with transaction.atomic():
        _account, locked = lock_payment(payment)
        if locked.type != PaymentType.TOP_UP or locked.status != S.WAITING_FOR_PAYMENT:
            raise StateConflict(
                f"Payment {locked.number} is not a top-up waiting for payment.", field="payment"
            )
        days = days or settings.PAYMENT_LINK_DAYS
        return PaymentLink.objects.create(
            invoice=None,
            payment=locked,
            account_id=locked.account_id,
            nonce=secrets.token_urlsafe(32),
            expires_at=timezone.now() + timedelta(days=days),
            created_by=actor.user,
        )


def send_top_up_email(payment_id: int, link_id: int) -> bool:
    """After commit: tell the member a top-up of their wallet waits, with its link."""
    payment = Payment.objects.select_related("account", "wallet").get(pk=payment_id)
    to = payment.account.email
    if not to:
        return False
    link = PaymentLink.objects.get(pk=link_id)
    until = timezone.localtime(link.expires_at)
    subject = f"Top up wallet '{payment.wallet.name}' — {format_money(payment.amount)}"
    body = (
        f"Hello {payment.account.name},\n\n"
        f"Your wallet '{payment.wallet.name}' has {format_money(payment.wallet.available)} "
        f"available. Its automatic top-up asks for {format_money(payment.amount)} "
        f"(payment {payment.number}).\n\nYou can pay it by card here:\n{link_url(link)}\n\n"
        f"The link works until {until:%d %B %Y}.\n"
    )
    return send_notice("automatic top-up payment-link email", to, subject, body)


def monthly_auto_top_ups(*, now=None, limit: int = 500) -> int:
    """The monthly job: every enabled monthly rule whose day has come and whose month has
    not run yet (each in its own transaction); how many payments were opened."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    rules = (
        AutoTopUp.objects.filter(
            trigger=AutoTopUpTrigger.MONTHLY, enabled=True, day_of_month__lte=local.day
        )
        .exclude(last_period=f"{local:%Y-%m}")
        .values_list("wallet_id", flat=True)[:limit]
    )
    opened = 0
    for wallet_id in list(rules):
        if run_auto_top_up(wallet=wallet_id, trigger=AutoTopUpTrigger.MONTHLY, now=now):
            opened += 1
    return opened
