"""A wallet's automatic top-up rule (issue 14 item 5; docs/RULES.md "Automatic
top-ups"): set or clear it. Opening the top-up payment itself is ``payments``' work
(``payments.services.auto_top_ups``)."""

from django.db import transaction

from ledger.errors import InvalidInput
from ledger.money import format_money, to_money
from ledger.services import Actor

from ..models import AutoTopUp, AutoTopUpTrigger, Wallet
from . import alerts
from .core import lock_wallet, require_active


def _positive(value, currency: str, field: str):
    money = to_money(value, currency, field=field)
    if money.amount <= 0:
        raise InvalidInput(f"{field}: must be positive (got {format_money(money)}).", field=field)
    return money


def _clean(wallet: Wallet, trigger, amount, target, day_of_month):
    if trigger not in AutoTopUpTrigger.values:
        raise InvalidInput(
            f"trigger: one of {', '.join(AutoTopUpTrigger.values)} (got {trigger!r}).",
            field="trigger",
        )
    given = [v not in (None, "") for v in (amount, target)]
    if given.count(True) != 1:
        raise InvalidInput(
            "amount: give either a fixed amount or a target balance (not both, not neither).",
            field="amount",
        )
    amount = _positive(amount, wallet.currency, "amount") if given[0] else None
    target = _positive(target, wallet.currency, "target") if given[1] else None
    if trigger == AutoTopUpTrigger.MONTHLY:
        if day_of_month in (None, "") or not 1 <= int(day_of_month) <= 28:
            raise InvalidInput(
                "day_of_month: a monthly top-up runs on a day from 1 to 28.", field="day_of_month"
            )
        day_of_month = int(day_of_month)
    else:
        if day_of_month not in (None, ""):
            raise InvalidInput(
                "day_of_month: only for a monthly top-up.", field="day_of_month"
            )  # fmt: skip
        day_of_month = None
        if wallet.low_balance_threshold is None:
            raise InvalidInput(
                f"trigger: wallet '{wallet.name}' has no low-balance threshold; set one "
                "first (the top-up runs when available falls below it).",
                field="trigger",
            )
        if target is not None and target <= wallet.low_balance_threshold:
            raise InvalidInput(
                f"target: must be above the threshold of "
                f"{format_money(wallet.low_balance_threshold)}.",
                field="target",
            )
    return amount, target, day_of_month


def set_auto_top_up(
    *,
    wallet: Wallet | int,
    trigger: str,
    actor: Actor,
    amount=None,
    target=None,
    day_of_month=None,
    enabled: bool = True,
) -> AutoTopUp:
    """Create or replace the wallet's rule: ``trigger`` below_threshold (the wallet's
    low-balance threshold) or monthly (``day_of_month``); a fixed ``amount`` or up to a
    ``target`` available balance."""
    with transaction.atomic():
        locked = lock_wallet(wallet)
        require_active(locked)
        amount, target, day = _clean(locked, trigger, amount, target, day_of_month)
        rule = AutoTopUp.objects.filter(wallet=locked).first() or AutoTopUp(
            wallet=locked, currency=locked.currency
        )
        rule.trigger, rule.amount, rule.target = trigger, amount, target
        rule.day_of_month, rule.enabled = day, bool(enabled)
        rule.save()
        threshold_rule = rule.enabled and trigger == AutoTopUpTrigger.BELOW_THRESHOLD
        if threshold_rule and locked.low_balance_alert_seq is not None:  # already low
            alerts.low_balance_hooks_after_commit(locked.pk)
        return rule


def clear_auto_top_up(*, wallet: Wallet | int, actor: Actor) -> bool:
    """Remove the wallet's rule (False: it had none). Top-ups it opened stay as they are."""
    with transaction.atomic():
        locked = lock_wallet(wallet)
        deleted, _ = AutoTopUp.objects.filter(wallet=locked).delete()
        return bool(deleted)
