"""Dunning reminders (issue 15 item 4, SPEC section 7; docs/RULES.md *Dunning
reminders*): the periodic run ``send_due_reminders``, staff's ``send_reminder_now``,
excluding an account, and saving reminder levels.

An invoice gets level L when it is due or partially paid with money owed, has a due date,
today >= due date + L's days, its account is not excluded and it has no ``Reminder`` for L
yet. **Catch-up**: when several levels are due at once (the job did not run for a week),
only the most advanced is sent; the earlier ones are recorded ``skipped``. A level is
never sent after a later one (staff may send a later level early: the earlier ones are
then skipped).

Several workers at once (PostgreSQL): a batch is one transaction that locks the
candidates' accounts with ``FOR NO KEY UPDATE SKIP LOCKED`` (another worker's, or a
service's, accounts are left to them or to the next run), in account order, then their
invoices (the lock order of ``ledger/locks.py``), re-reads everything under the locks and
inserts the rows; ``UniqueConstraint(invoice, level)`` makes a second row impossible
anyway. The payment link is made (or reused) in that transaction, and the
``invoice.reminder_sent`` event written with the row. Emails leave after commit
(``dunning_mail.deliver``), never under a lock.
"""

import logging
from datetime import date, timedelta

from django.db import OperationalError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from events import services as events
from events.models import EventType
from ledger import services as ledger
from ledger.errors import InvalidInput, StateConflict
from ledger.models import Account, Invoice
from ledger.services import Actor, system_actor

from ..models import (
    DunningExclusion,
    Reminder,
    ReminderLevel,
    ReminderStatus,
    ReminderTrigger,
)
from .common import open_payment_for
from .dunning_levels import LEVEL_FIELDS, save_level
from .dunning_mail import REMINDABLE, deliver_all, deliver_pending, no_link_words, not_remindable
from .dunning_mail import render as render_email
from .gateway_flows import link_url
from .member_links import card_payable_refusal, member_payment_link

RUN_ACTOR = system_actor("reminder run")
logger = logging.getLogger(__name__)
__all__ = [
    "LEVEL_FIELDS",
    "exclude_account",
    "include_account",
    "next_level_for",
    "save_level",
    "send_due_reminders",
    "send_reminder_now",
]


def active_levels() -> list[ReminderLevel]:
    return list(ReminderLevel.objects.filter(is_active=True).order_by("offset_days", "id"))


def _due_levels(invoice: Invoice, levels, today: date) -> list[ReminderLevel]:
    return [lv for lv in levels if invoice.due_date + timedelta(days=lv.offset_days) <= today]


def plan(invoice: Invoice, levels, have: dict[int, int], today: date):
    """(level to send or None, levels to record as skipped). ``have``: level id ->
    offset of the invoice's existing reminders (any status)."""
    due = _due_levels(invoice, levels, today)
    if not due:
        return None, []
    latest = max(have.values(), default=None)
    target = due[-1]
    if target.pk in have or (latest is not None and target.offset_days < latest):
        target = None
    passed = due[:-1] if target else due
    return target, [lv for lv in passed if lv.pk not in have]


def next_level_for(invoice: Invoice, *, today: date | None = None) -> ReminderLevel | None:
    """The level *Send reminder now* offers first: the most advanced due one not sent,
    else the next one to come; None when every level after the last sent one is done."""
    today = today or timezone.localdate()
    levels = active_levels()
    have = dict(
        Reminder.objects.filter(invoice=invoice).values_list("level_id", "level__offset_days")
    )
    latest = max(have.values(), default=None)
    left = [
        lv for lv in levels if lv.pk not in have and (latest is None or lv.offset_days > latest)
    ]
    if not left or invoice.due_date is None:
        return left[0] if left else None
    due = _due_levels(invoice, left, today)
    return due[-1] if due else left[0]


def _pay_link(invoice: Invoice, actor: Actor):
    """(link or None, the text ``{pay_link}`` becomes): the invoice's live link reused,
    or a new one (``member_payment_link``); none when it cannot be paid by card now."""
    why = card_payable_refusal(invoice, open_payment_for(invoice))
    if why:
        return None, no_link_words(why)
    link = member_payment_link(invoice=invoice.pk, actor=actor)
    return link, link_url(link)


def _skip(invoice: Invoice, levels, *, trigger: str, actor: Actor, why: str) -> int:
    Reminder.objects.bulk_create(
        Reminder(
            invoice=invoice,
            level=lv,
            account_id=invoice.account_id,
            status=ReminderStatus.SKIPPED,
            trigger=trigger,
            actor_label=actor.label,
            created_by=actor.user,
            error=why,
        )
        for lv in levels
    )
    return len(levels)


def _queue(invoice: Invoice, level: ReminderLevel, *, today, trigger, actor: Actor) -> Reminder:
    """The reminder row (queued, the email's text and link on it). Under the locks."""
    link, pay_text = _pay_link(invoice, actor)
    subject, body = render_email(level, invoice, today=today, pay_link=pay_text)
    return Reminder.objects.create(
        invoice=invoice,
        level=level,
        account_id=invoice.account_id,
        status=ReminderStatus.QUEUED,
        trigger=trigger,
        actor_label=actor.label,
        created_by=actor.user,
        sent_to=invoice.account.email,
        subject=subject,
        body=body,
        link=link,
        pay_url=pay_text if link else "",  # the very URL in the email
    )


def _emit(invoice: Invoice, reminder: Reminder) -> None:
    events.emit(
        EventType.INVOICE_REMINDER_SENT,
        account=invoice.account_id,
        objects={"invoice": invoice, "reminder": reminder},
    )


# --- the run -------------------------------------------------------------------------


def _candidates(levels, today: date):
    """Invoices that may need a level: remindable status, a due date, some active level
    due without a row, the account not excluded. Re-checked under the locks."""
    need = Q()
    for lv in levels:
        need |= Q(due_date__lte=today - timedelta(days=lv.offset_days)) & ~Exists(
            Reminder.objects.filter(invoice=OuterRef("pk"), level=lv)
        )
    excluded = DunningExclusion.objects.filter(account=OuterRef("account_id"))
    return Invoice.objects.filter(need, status__in=REMINDABLE, due_date__isnull=False).filter(
        ~Exists(excluded)
    )


def _lock_batch(rows, *, skip_locked: bool):
    """Lock the rows' accounts (account order; with ``skip_locked`` only those free now),
    drop the excluded ones, then lock their invoices (id order). Returns the fresh
    invoices (accounts loaded) and the rows whose accounts were busy."""
    accounts = sorted({account_id for _pk, account_id in rows})
    got = set(
        Account.objects.select_for_update(skip_locked=skip_locked, no_key=True)
        .filter(pk__in=accounts)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    busy = [(pk, account_id) for pk, account_id in rows if account_id not in got]
    got -= set(
        DunningExclusion.objects.filter(account_id__in=got).values_list("account_id", flat=True)
    )
    wanted = [pk for pk, account_id in rows if account_id in got]
    invoices = list(
        Invoice.objects.select_for_update(of=("self",), no_key=True)
        .select_related("account")
        .filter(pk__in=wanted)
        .order_by("pk")
    )
    return invoices, busy


def _existing(invoices) -> dict[int, dict[int, int]]:
    """invoice id -> {level id: offset} of the reminders it has (read under the locks)."""
    have: dict[int, dict[int, int]] = {}
    rows = Reminder.objects.filter(invoice__in=invoices)
    for invoice_id, level_id, offset in rows.values_list(
        "invoice_id", "level_id", "level__offset_days"
    ):
        have.setdefault(invoice_id, {})[level_id] = offset
    return have


CATCH_UP = "a later level was due at the same time (catch-up: only the latest is sent)"


def _decide(levels, today: date, rows, counts: dict, *, skip_locked: bool) -> list:
    """One transaction: lock and decide ``rows`` (invoice id, account id); the rows left
    for later because their accounts were busy. Emails after commit."""
    with transaction.atomic():
        invoices, busy = _lock_batch(rows, skip_locked=skip_locked)
        have = _existing(invoices)
        queued = []
        for invoice in invoices:
            if not_remindable(invoice):
                continue
            target, passed = plan(invoice, levels, have.get(invoice.pk, {}), today)
            counts["skipped"] += _skip(
                invoice, passed, trigger=ReminderTrigger.RUN, actor=RUN_ACTOR, why=CATCH_UP
            )
            if target is not None:
                reminder = _queue(
                    invoice, target, today=today, trigger=ReminderTrigger.RUN, actor=RUN_ACTOR
                )
                queued.append((invoice, reminder))
        for invoice, reminder in sorted(queued, key=lambda p: (p[0].account_id, p[0].pk)):
            _emit(invoice, reminder)  # account order: counters locked in one order
        counts["queued"] += len(queued)
        ids = [r.pk for _i, r in queued]
        transaction.on_commit(lambda: deliver_all(ids, counts))
    return busy


def send_due_reminders(*, today: date | None = None, batch: int = 200) -> dict:
    """The periodic job: the reminders decided earlier but not delivered, then every
    level due today, once per invoice (see the module's rules). Invoices whose account
    another worker or service holds are skipped in the first pass and taken at the end,
    waiting for the lock (then usually found done). Returns counts: ``queued`` (decided
    now), ``skipped``, and the emails ``sent`` / ``failed``."""
    today = today or timezone.localdate()
    counts = {"queued": 0, "skipped": 0, "sent": 0, "failed": 0}
    deliver_pending(counts=counts)  # earlier runs' leftovers first: a failure waits a run
    levels = active_levels()
    after, busy = 0, []
    while levels:
        page = _candidates(levels, today).filter(pk__gt=after).order_by("pk")
        rows = list(page.values_list("pk", "account_id")[:batch])
        if rows:
            busy += _decide(levels, today, rows, counts, skip_locked=True)
        if len(rows) < batch:
            break
        after = rows[-1][0]
    for start in range(0, len(busy), batch):
        rows = busy[start : start + batch]
        try:
            _decide(levels, today, rows, counts, skip_locked=False)
        except OperationalError:  # held past the lock timeout: the next run takes them
            logger.warning("send_reminders: %d invoice(s) left for the next run", len(rows))
    return counts


# --- staff ---------------------------------------------------------------------------


def _require_included(account: Account) -> None:
    exclusion = DunningExclusion.objects.filter(account=account).first()
    if exclusion is not None:
        raise StateConflict(
            f"Account {account.name} is excluded from reminders since "
            f"{timezone.localtime(exclusion.created_at):%d %b %Y} ({exclusion.reason}): "
            "include it again before sending one.",
            field="account",
        )


def _chosen_level(invoice: Invoice, level, have: dict[int, int]) -> ReminderLevel:
    if level is None:
        chosen = next_level_for(invoice)
        if chosen is None:
            raise StateConflict(
                f"Invoice {invoice} has had every reminder level already.", field="level"
            )
        return chosen
    pk = level.pk if isinstance(level, ReminderLevel) else level
    chosen = ReminderLevel.objects.filter(pk=pk, is_active=True).first()
    if chosen is None:
        raise InvalidInput(f"level: no active reminder level {pk}.", field="level")
    done = Reminder.objects.filter(invoice=invoice, level=chosen).first()
    if done is not None:
        raise StateConflict(
            f"Reminder '{chosen.name}' for invoice {invoice} was already "
            f"{done.get_status_display().lower()} on "
            f"{timezone.localtime(done.created_at):%d %b %Y}: each level goes once.",
            field="level",
        )
    if have and max(have.values()) > chosen.offset_days:
        raise StateConflict(
            f"Invoice {invoice} has had a later reminder than '{chosen.name}' already.",
            field="level",
        )
    return chosen


def send_reminder_now(*, invoice: Invoice | int, level=None, actor: Actor) -> Reminder:
    """Staff: send ``level`` (default: ``next_level_for``) to the member now, whatever
    its date. Refused for an excluded account, an invoice that owes nothing or is
    disputed, or a level the invoice has had (or a later one). The email leaves after
    commit."""
    with transaction.atomic():
        account, locked = ledger.lock_invoice(invoice)
        _require_included(account)
        why = not_remindable(locked)
        if why:
            raise StateConflict(f"Invoice {locked} gets no reminder: {why}.", field="invoice")
        have = dict(
            Reminder.objects.filter(invoice=locked).values_list("level_id", "level__offset_days")
        )
        chosen = _chosen_level(locked, level, have)
        earlier = [
            lv
            for lv in active_levels()
            if lv.offset_days < chosen.offset_days and lv.pk not in have
        ]
        _skip(
            locked,
            earlier,
            trigger=ReminderTrigger.STAFF,
            actor=actor,
            why=f"a later level ('{chosen.name}') was sent by {actor.label}",
        )
        today = timezone.localdate()
        reminder = _queue(locked, chosen, today=today, trigger=ReminderTrigger.STAFF, actor=actor)
        _emit(locked, reminder)
        transaction.on_commit(lambda: deliver_all([reminder.pk]))
    return reminder


def exclude_account(*, account: Account | int, reason: str, actor: Actor) -> DunningExclusion:
    """The account gets no reminders until included again."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason: say why the account gets no reminders.", field="reason")
    if len(reason) > 255:
        raise InvalidInput("reason: at most 255 characters.", field="reason")
    with transaction.atomic():
        locked = ledger.lock_account(account)
        found = DunningExclusion.objects.filter(account=locked).first()
        if found is not None:
            raise StateConflict(
                f"Account {locked.name} is already excluded from reminders "
                f"(by {found.created_by_label}: {found.reason}).",
                field="account",
            )
        return DunningExclusion.objects.create(
            account=locked, reason=reason, created_by=actor.user, created_by_label=actor.label
        )


def include_account(*, account: Account | int, actor: Actor) -> Account:
    """Reminders again for the account (levels due meanwhile are sent by the next run)."""
    with transaction.atomic():
        locked = ledger.lock_account(account)
        deleted, _ = DunningExclusion.objects.filter(account=locked).delete()
        if not deleted:
            raise StateConflict(
                f"Account {locked.name} is not excluded from reminders.", field="account"
            )
        return locked
