"""Wallet alerts (issue 14 item 5): ``wallet.low_balance`` once per crossing below the
wallet's threshold, ``wallet.depleted`` once per reaching zero (docs/RULES.md "Wallet
alerts").

The flags are on the wallet row: ``low_balance_alert_seq`` / ``depleted_alert_seq`` hold
the seq of the movement that alerted and are NULL while armed. Every movement flips them
under the wallet's row lock, so however many movements race, one of them is the crossing:

* the ORM paths: ``core.record`` calls ``movement`` with the balances before it;
* the usage drawdown statement (``drawdown_sql``) flips them in its own UPDATE and says
  whether it did, and ``core.usage_drawdown`` then calls ``announce``.

An alert is re-armed by the movement that brings available back to the threshold or
above (a top-up, a released hold), or above zero for ``depleted``. The event is written
in the movement's transaction; the optional email and the automatic top-up job are
started after it commits (``transaction.on_commit``), never under the lock.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from moneyed import Money

from events import services as events
from ledger.errors import InvalidInput, StateConflict
from ledger.money import format_money, to_money
from ledger.services import Actor

from ..models import AutoTopUp, AutoTopUpTrigger, Wallet

FLAG_FIELDS = ["low_balance_alert_seq", "depleted_alert_seq"]

# Called after commit with the wallet id when a wallet with an enabled below-threshold
# automatic top-up rule crosses its threshold; ``payments`` registers the job's enqueue.
_low_balance_hooks: list[Callable[[int], None]] = []

logger = logging.getLogger(__name__)


def on_low_balance(hook: Callable[[int], None]) -> None:
    if hook not in _low_balance_hooks:
        _low_balance_hooks.append(hook)


def low_balance_hooks_after_commit(wallet_id: int) -> None:
    for hook in _low_balance_hooks:
        transaction.on_commit(lambda hook=hook: hook(wallet_id))


def movement(wallet: Wallet, before: Money) -> tuple[bool, bool]:
    """Flip the flags of a locked wallet whose balances just moved (``wallet.last_seq``
    is the movement's seq, ``before`` the available before it); (low, depleted): which
    alerts this movement raised. The caller saves ``FLAG_FIELDS`` and calls ``announce``."""
    after = wallet.available
    low = depleted = False
    threshold = wallet.low_balance_threshold
    if threshold is not None:
        if wallet.low_balance_alert_seq is None and after < threshold:
            wallet.low_balance_alert_seq, low = wallet.last_seq, True
        elif wallet.low_balance_alert_seq is not None and after >= threshold:
            wallet.low_balance_alert_seq = None
    if after.amount == 0 and before.amount > 0 and wallet.depleted_alert_seq is None:
        wallet.depleted_alert_seq, depleted = wallet.last_seq, True
    elif after.amount > 0 and wallet.depleted_alert_seq is not None:
        wallet.depleted_alert_seq = None
    return low, depleted


def announce(wallet: Wallet, *, low: bool, depleted: bool) -> None:
    """Inside the movement's transaction: write the events; after commit, the email and
    the automatic top-up job."""
    if low:
        events.emit_wallet_low_balance(wallet)
        if wallet.low_balance_email:
            transaction.on_commit(lambda: send_low_balance_email(wallet.pk))
        if _low_balance_hooks and _threshold_rule(wallet.pk):
            low_balance_hooks_after_commit(wallet.pk)
    if depleted:
        events.emit_wallet_depleted(wallet)


def _threshold_rule(wallet_id: int) -> bool:
    return AutoTopUp.objects.filter(
        wallet_id=wallet_id, enabled=True, trigger=AutoTopUpTrigger.BELOW_THRESHOLD
    ).exists()


def send_low_balance_email(wallet_id: int) -> bool:
    """After commit: tell the account that a wallet is low (False: nowhere to send)."""
    wallet = Wallet.objects.select_related("account").get(pk=wallet_id)
    to = wallet.account.email
    if not to or wallet.low_balance_threshold is None:
        return False
    subject = f"Wallet '{wallet.name}' is low: {format_money(wallet.available)} available"
    body = (
        f"Hello {wallet.account.name},\n\n"
        f"Your wallet '{wallet.name}' has {format_money(wallet.available)} available, "
        f"below its alert threshold of {format_money(wallet.low_balance_threshold)}.\n"
    )
    return send_notice("low-balance alert email", to, subject, body)


def send_notice(what: str, to: str, subject: str, body: str) -> bool:
    """Send a notice email after commit (never under a lock): True when it left. A
    failure undoes nothing — the money is already right — and is logged with its error."""
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
    except Exception:
        logger.exception("%s to %s failed", what, to)
        return False
    return True


def set_low_balance_alert(
    *, wallet: Wallet | int, threshold, actor: Actor, email: bool = False
) -> Wallet:
    """Set (or, with ``threshold`` None or "", clear) a wallet's low-balance threshold and
    whether an alert also emails the account. A threshold above what is available now
    alerts at once (the wallet is low); clearing re-arms."""
    from .core import lock_wallet, require_active

    with transaction.atomic():
        locked = lock_wallet(wallet)
        require_active(locked)
        if threshold is None or threshold == "":
            if _threshold_rule(locked.pk):
                raise StateConflict(
                    f"Wallet '{locked.name}' has an automatic top-up on its threshold; "
                    "change or clear that rule before clearing the threshold.",
                    field="threshold",
                )
            locked.low_balance_threshold = None
            locked.low_balance_alert_seq = None
            low = False
        else:
            money = to_money(threshold, locked.currency, field="threshold")
            if money.amount < 0:
                raise InvalidInput(
                    f"threshold: must be zero or more (got {format_money(money)}).",
                    field="threshold",
                )
            locked.low_balance_threshold = money
            low, _depleted = movement(locked, locked.available)
        locked.low_balance_email = bool(email)
        locked.save(update_fields=["low_balance_threshold", "low_balance_email", *FLAG_FIELDS])
        announce(locked, low=low, depleted=False)
        return locked
