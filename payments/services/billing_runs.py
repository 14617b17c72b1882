"""The period-close billing run (SPEC section 7; docs/RULES.md "Billing run").

``start_run`` opens a run (or finds the one running) and queues every ongoing invoice
whose billing period ended by its ``through`` day. ``work_run`` issues them: any number
of workers (processes, hosts) may work the same run at once.

A worker's batch is one transaction:

1. claim up to ``batch`` pending items, ``FOR UPDATE SKIP LOCKED`` (another worker's
   items are skipped, never waited for), in account order;
2. lock their accounts, in id order, in one statement — the project's lock order
   (``ledger.locks``) puts accounts before the invoice numbering counter, which the
   batch takes at its first issue and holds to commit;
3. issue each invoice through ``issue_invoice`` (holds captured as credit memos, the
   account's credit applied, the waiting payment opened) and start a direct debit
   where the account has an active mandate, each in a savepoint: an invoice that fails
   is rolled back alone and its item records the reason;
4. write the items' outcomes and commit. The gateway calls go out after the commit.

A crash rolls the batch back: its items are pending again and the next worker (or
``close_period`` run again) issues them. An invoice is issued at most once: only an
``ongoing`` invoice can be issued, under its lock, and at most one item per invoice is
``issued`` (a partial unique index).
"""

from collections.abc import Callable
from datetime import date, timedelta

from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.db.models import Exists, OuterRef
from django.utils import timezone

from ledger.bulk import update_rows
from ledger.errors import BillingError, InvalidInput, StateConflict
from ledger.models import Account, Invoice, InvoiceStatus
from ledger.services import Actor

from ..models import (
    BillingRun,
    BillingRunItem,
    ItemStatus,
    Mandate,
    MandateStatus,
    PaymentStatus,
    RunStatus,
)
from ..selectors.billing_runs import running_run
from .batch_issue import issue_batch
from .common import open_payment_for
from .gateway_flows import start_direct_debit
from .issuing import issue_invoice

DEFAULT_BATCH = 50


def clean_through(through: date | None, *, today: date | None = None) -> date:
    """The last period day a run closes: yesterday by default; never today or later
    (a period ends when its last day has passed)."""
    today = today or timezone.localdate()
    through = through or today - timedelta(days=1)
    if through >= today:
        raise InvalidInput(
            f"through: {through.isoformat()} has not passed yet; a run closes periods that "
            f"ended on or before yesterday ({(today - timedelta(days=1)).isoformat()}).",
            field="through",
        )
    return through


def _ended(through: date):
    return Invoice.objects.filter(status=InvoiceStatus.ONGOING, period_end__lte=through)


def periods_ended(through: date | None = None) -> bool:
    """Whether an ongoing invoice's billing period ended by ``through`` (yesterday)."""
    return _ended(through or timezone.localdate() - timedelta(days=1)).exists()


def _queue(run: BillingRun) -> int:
    """Add an item for each ongoing invoice of an ended period not queued in this run."""
    rows = (
        _ended(run.through)
        .exclude(Exists(BillingRunItem.objects.filter(run=run, invoice=OuterRef("pk"))))
        .values_list("pk", "account_id", "currency")
    )
    items = [
        BillingRunItem(run=run, invoice_id=pk, account_id=account_id, currency=currency)
        for pk, account_id, currency in rows.iterator(chunk_size=2000)
    ]
    BillingRunItem.objects.bulk_create(items, batch_size=2000, ignore_conflicts=True)
    return len(items)


def start_run(*, through: date | None = None, actor: Actor, resume: bool = True) -> BillingRun:
    """Open a billing run through ``through`` and queue its invoices; or, when a run is
    already running (``resume``), return that one (its invoices queued again: new ones
    whose period ended by its day join it). Refused: a day not passed yet; another
    run running with ``resume=False``."""
    through = clean_through(through)
    with transaction.atomic():
        run = running_run()
        if run is not None and not resume:
            raise StateConflict(
                f"{run} is still running: resume it (it issues what is left) instead of "
                "starting another.",
                field="through",
            )
        if run is None:
            try:
                with transaction.atomic():
                    run = BillingRun.objects.create(
                        through=through, started_by=actor.user, actor_label=actor.label[:150]
                    )
            except IntegrityError:  # another run started at the same moment: join it
                run = BillingRun.objects.get(status=RunStatus.RUNNING)
        _queue(run)
    return run


def _run_actor(run: BillingRun) -> Actor:
    return Actor(user=run.started_by, label=f"billing run #{run.pk} ({run.actor_label})"[:150])


def _direct_debit(item: BillingRunItem, invoice: Invoice, actor: Actor) -> None:
    """Start collecting the issued invoice's waiting payment under the account's active
    mandate, in a savepoint: a refusal leaves the invoice issued and says why."""
    try:
        with transaction.atomic():
            payment = open_payment_for(invoice)
            if payment is None or payment.status != PaymentStatus.WAITING_FOR_PAYMENT:
                return  # nothing owed, or waiting for the ERP's approval first
            start_direct_debit(payment=payment.pk, actor=actor)
            item.direct_debit = True
    except BillingError as exc:
        item.reason = f"Issued; the direct debit was not started: {exc.detail}"[:500]


def _database_gone(exc: Exception) -> bool:
    """The connection is lost (not an invoice's refusal): the worker stops; its batch
    rolls back and is pending again."""
    return isinstance(exc, InterfaceError) or (
        isinstance(exc, DatabaseError) and not connection.is_usable()
    )


def _failed(item: BillingRunItem, exc: Exception) -> None:
    if _database_gone(exc):
        raise exc
    item.status = ItemStatus.FAILED
    if isinstance(exc, OperationalError):
        item.reason = "the database refused it (a lock conflict); the next run retries it"
    else:
        item.reason = (getattr(exc, "detail", None) or f"{type(exc).__name__}: {exc}")[:500]


def _issued(item: BillingRunItem, invoice: Invoice) -> None:
    item.status = ItemStatus.ISSUED
    item.total = invoice.total
    item.captured = invoice.amount_credited
    item.credit_applied = invoice.amount_paid
    item.waiting = invoice.amount_due


def _issue_item(item: BillingRunItem, actor: Actor) -> Invoice | None:
    """Issue one item's invoice through ``issue_invoice``, in a savepoint; its outcome
    goes on the item."""
    try:
        with transaction.atomic():
            invoice = issue_invoice(invoice=item.invoice_id, actor=actor)
    except (BillingError, DatabaseError, ValueError, TypeError) as exc:
        _failed(item, exc)
        return None
    _issued(item, invoice)
    return invoice


def _issue_fast(items: list[BillingRunItem], accounts: dict, actor: Actor):
    """The batch path (``batch_issue``), in a savepoint: if it fails as a whole, nothing
    of it stays and every item goes through ``issue_invoice`` alone."""
    try:
        with transaction.atomic():
            return issue_batch([item.invoice_id for item in items], accounts, actor)
    except (BillingError, DatabaseError, ValueError, TypeError) as exc:
        if _database_gone(exc):
            raise
        return {}, [item.invoice_id for item in items]


OUTCOME_FIELDS = [
    "status",
    "reason",
    "processed_at",
    "total",
    "captured",
    "credit_applied",
    "waiting",
    "direct_debit",
    "currency",
]


def _claim(run: BillingRun, batch: int) -> list[BillingRunItem]:
    return list(
        BillingRunItem.objects.select_for_update(skip_locked=True)
        .filter(run=run, status=ItemStatus.PENDING)
        .order_by("account_id", "id")[:batch]
    )


def work_batch(run: BillingRun, *, batch: int = DEFAULT_BATCH) -> int:
    """Claim and issue one batch of the run's pending items; returns how many (0: none
    left that no other worker holds)."""
    actor = _run_actor(run)
    with transaction.atomic():
        items = _claim(run, batch)
        if not items:
            return 0
        ids = sorted({item.account_id for item in items})
        locked = Account.objects.select_for_update(no_key=True).filter(pk__in=ids)
        accounts = {account.pk: account for account in locked.order_by("pk")}
        # Read once, under the account locks (so they cannot change): the invoices'
        # statuses and which accounts collect by direct debit.
        statuses = dict(
            Invoice.objects.filter(pk__in=[i.invoice_id for i in items]).values_list("pk", "status")
        )
        debited = set(
            Mandate.objects.filter(account_id__in=ids, status=MandateStatus.ACTIVE).values_list(
                "account_id", flat=True
            )
        )
        now = timezone.now()
        todo = []
        for item in items:
            item.processed_at = now
            status = statuses[item.invoice_id]
            if status == InvoiceStatus.ONGOING:
                todo.append(item)
            else:
                item.status, item.reason = ItemStatus.SKIPPED, f"the invoice is {status} already"
        issued, left = _issue_fast(todo, accounts, actor) if todo else ({}, [])
        for item in todo:
            invoice = issued.get(item.invoice_id)
            if invoice is not None:
                _issued(item, invoice)
            else:
                invoice = _issue_item(item, actor)
            if invoice is not None and item.account_id in debited:
                _direct_debit(item, invoice, actor)
        update_rows(BillingRunItem, items, OUTCOME_FIELDS)
    return len(items)


def finish_if_done(run: BillingRun) -> bool:
    """Mark the run finished when no item is pending (one statement: the last worker to
    commit sees the others' items done)."""
    pending = BillingRunItem.objects.filter(run=OuterRef("pk"), status=ItemStatus.PENDING)
    return bool(
        BillingRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING)
        .exclude(Exists(pending))
        .update(status=RunStatus.FINISHED, finished_at=timezone.now())
    )


def work_run(
    run: BillingRun | int,
    *,
    batch: int = DEFAULT_BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Issue the run's pending items, batch after batch, until none is left; returns
    how many items this worker processed. Safe beside other workers of the same run."""
    run = BillingRun.objects.get(pk=run.pk if isinstance(run, BillingRun) else run)
    processed = 0
    while run.status == RunStatus.RUNNING:
        done = work_batch(run, batch=batch)
        if not done:
            break
        processed += done
        if on_batch is not None:
            on_batch(done)
    finish_if_done(run)
    return processed


def close_period(
    *, through: date | None = None, actor: Actor, batch: int = DEFAULT_BATCH
) -> BillingRun:
    """Start (or resume) a run and work it to the end in this process."""
    run = start_run(through=through, actor=actor)
    work_run(run, batch=batch)
    run.refresh_from_db()
    return run
