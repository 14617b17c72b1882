"""Property test of the ledger core (DESIGN "Habits"): for any sequence of operations —
invoices created, opened, consumed, issued, cancelled, credits posted, and operations
that must be refused — after every step

    balance == Σcredit − Σdebit == last balance_after, seq runs 1..n,
    invoice statuses and totals match a simple model and their INVC entries,
    refused operations change nothing, numbers are gapless, verify_ledger is clean.

Each hypothesis example runs inside its own transaction that is rolled back at the end,
so examples never see each other's rows (the test's pytest-django transaction is shared).
"""

from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moneyed import Money

from ledger import services
from ledger.errors import BillingError, CurrencyMismatch, InvalidAmount, InvalidInput, StateConflict
from ledger.models import Account, Invoice, InvoiceCounter, InvoiceLine, LedgerEntry
from ledger.money import minor_places
from ledger.services import LineSpec, Posting
from ledger.verification import verify_all

pytestmark = pytest.mark.django_db

ACTOR = services.system_actor("property")
EDITABLE = ("draft", "ongoing")

# --- strategies: plain data, turned into Decimal strings per currency ------------------

prices = st.integers(min_value=100, max_value=500_000)  # minor units: 1.00 / ¥100 up
quantities = st.one_of(
    st.integers(min_value=1, max_value=20).map(lambda n: n * 10_000),  # whole units
    st.integers(min_value=1_000, max_value=1_000_000),  # 0.1000 to 100.0000
    st.sampled_from([5_000, 15_000, 25_000, 2_500, 12_500, 1]),  # halves; 0.0001
)
line = st.tuples(quantities, prices)
slot = st.integers(min_value=0, max_value=7)  # which invoice (modulo how many exist)
acct = st.integers(min_value=0, max_value=1)

create = st.tuples(st.just("create"), acct, st.lists(line, min_size=1, max_size=3))
issue = st.tuples(st.just("issue"), slot)
ops = st.one_of(
    create,
    create,
    st.tuples(st.just("create"), acct, st.just([])),  # nothing to charge: issue refused
    st.tuples(st.just("open"), slot),
    issue,
    issue,
    st.tuples(st.just("cancel"), slot),
    st.tuples(st.just("consume"), slot, st.one_of(quantities, st.just(0))),
    st.tuples(
        st.just("credit"),
        acct,
        st.sampled_from(["PAYM", "CRED"]),
        st.integers(min_value=-100_000, max_value=500_000).filter(bool),
    ),
    st.tuples(
        st.just("bad"),
        acct,
        st.sampled_from(
            ["precision", "zero", "float", "currency", "line_precision", "line_negative"]
        ),
    ),
)


def amount_str(units: int, currency: str) -> str:
    """Integer minor units -> Decimal string at the currency's precision ('12.34')."""
    return format(Decimal(units).scaleb(-minor_places(currency)), "f")


def qty_str(units: int) -> str:
    return format(Decimal(units).scaleb(-4), "f")


def line_amount(quantity: str, price: str, currency: str) -> Decimal:
    q = Decimal(1).scaleb(-minor_places(currency))
    return (Decimal(quantity) * Decimal(price)).quantize(q, rounding=ROUND_HALF_UP)


# --- the model ----------------------------------------------------------------------


@dataclass
class ModelInvoice:
    pk: int
    account: int  # index into accounts
    status: str = "draft"
    lines: list = field(default_factory=list)  # [quantity, price] strings
    numbered: bool = False

    def total(self, currency) -> Decimal:
        return sum((line_amount(q, p, currency) for q, p in self.lines), Decimal(0))


@dataclass
class Model:
    accounts: list
    balances: list
    invoices: list = field(default_factory=list)


# --- invariants ----------------------------------------------------------------------


def db_state(model: Model):
    """Everything a refused operation must leave untouched."""
    ids = [a.pk for a in model.accounts]
    return (
        list(
            Account.objects.filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", "balance", "last_seq", "last_posted_at")
        ),
        LedgerEntry.objects.filter(account_id__in=ids).count(),
        list(
            Invoice.objects.filter(account_id__in=ids)
            .order_by("pk")
            .values_list("pk", "status", "number", "total", "due_date")
        ),
        list(
            InvoiceLine.objects.filter(invoice__account_id__in=ids)
            .order_by("pk")
            .values_list("pk", "quantity", "unit_price", "amount")
        ),
        list(InvoiceCounter.objects.order_by("series").values_list("series", "last_value")),
    )


def check_invariants(model: Model):
    """A handful of queries per step, whatever the number of invoices."""
    ids = [a.pk for a in model.accounts]
    accounts = {a.pk: a for a in Account.objects.filter(pk__in=ids)}
    entries = {pk: [] for pk in ids}
    for row in (
        LedgerEntry.objects.filter(account_id__in=ids)
        .order_by("account_id", "seq")
        .values_list(
            "account_id",
            "seq",
            "debit",
            "credit",
            "balance_after",
            "currency",
            "posted_at",
            "kind",
            "reference",
            "invoice_id",
        )
    ):
        entries[row[0]].append(row[1:])

    for index, pk in enumerate(ids):
        fresh, rows = accounts[pk], entries[pk]
        assert [r[0] for r in rows] == list(range(1, len(rows) + 1)), "seq must run 1..n"
        running = Decimal(0)
        previous_time = None
        for seq, debit, credit, balance_after, currency, posted_at, *_ in rows:
            assert (debit == 0) != (credit == 0), f"entry {seq}: exactly one side non-zero"
            assert currency == fresh.currency
            running += credit - debit
            assert balance_after == running, f"entry {seq}: running balance"
            assert previous_time is None or posted_at >= previous_time
            previous_time = posted_at
        total_credit = sum((r[2] for r in rows), Decimal(0))
        total_debit = sum((r[1] for r in rows), Decimal(0))
        last_after = rows[-1][3] if rows else Decimal(0)
        assert fresh.balance.amount == total_credit - total_debit == last_after
        assert fresh.balance.amount == model.balances[index]
        assert fresh.last_seq == len(rows)

    invoices = {
        pk: (status, number, total)
        for pk, status, number, total in Invoice.objects.filter(account_id__in=ids).values_list(
            "pk", "status", "number", "total"
        )
    }
    line_counts = Counter(
        InvoiceLine.objects.filter(invoice__account_id__in=ids).values_list("invoice_id", flat=True)
    )
    invc = {}
    for pk in ids:
        for _seq, debit, _credit, _after, _cur, _at, kind, reference, invoice_id in entries[pk]:
            if invoice_id is not None:
                assert kind == "INVC"
                invc.setdefault(invoice_id, []).append((debit, reference, pk))
    assert set(invoices) == {mi.pk for mi in model.invoices}
    for mi in model.invoices:
        account = model.accounts[mi.account]
        status, number, total_stored = invoices[mi.pk]
        total = mi.total(account.currency)
        assert status == mi.status
        assert total_stored == total
        assert line_counts[mi.pk] == len(mi.lines)
        assert (number is not None) == mi.numbered
        linked = invc.get(mi.pk, [])
        assert all(acc == account.pk and ref == f"INVC-{number}" for _, ref, acc in linked)
        debits = [d for d, _, _ in linked]
        if mi.status == "due":
            assert debits == [total]
        elif mi.status == "cancelled" and mi.numbered:
            assert debits == [total, -total]
            assert sum(debits, Decimal(0)) == 0
        else:  # draft, ongoing, cancelled before issue
            assert debits == []

    numbered = sorted(
        Invoice.objects.filter(series="INV", seq_no__isnull=False).values_list("seq_no", flat=True)
    )
    last = InvoiceCounter.objects.filter(series="INV").values_list("last_value", flat=True)
    assert numbered == list(range(1, (last[0] if last else 0) + 1)), "gapless numbering"

    problems = [(a.pk, p) for a, p in verify_all(ids) if p]
    assert problems == []


# --- operations ----------------------------------------------------------------------


def apply(model: Model, op) -> type[BillingError] | None:
    """Run one operation; return the error class it must be refused with, or None when it
    must succeed (and update the model). Raises ``LookupError`` when it does not apply."""
    kind = op[0]
    if kind in ("create", "credit", "bad"):
        index = op[1] % len(model.accounts)
        account = model.accounts[index]
        currency = account.currency
    else:
        if not model.invoices:
            raise LookupError
        mi = model.invoices[op[1] % len(model.invoices)]
        account = model.accounts[mi.account]
        currency = account.currency
        total = mi.total(currency)

    if kind == "create":
        lines = [(qty_str(q), amount_str(p, currency)) for q, p in op[2]]
        invoice = services.create_invoice(
            account=account,
            actor=ACTOR,
            lines=[LineSpec(f"Item {i}", q, p) for i, (q, p) in enumerate(lines)],
        )
        model.invoices.append(ModelInvoice(pk=invoice.pk, account=index, lines=lines))
        return None
    if kind == "credit":
        amount = amount_str(op[3], currency)
        services.post(
            account=account,
            postings=[Posting(kind=op[2], amount=Money(amount, currency), reference="PAYM-P")],
            actor=ACTOR,
        )
        model.balances[index] += Decimal(amount)
        return None
    if kind == "bad":
        return refuse(account, op[2])
    if kind == "open":
        services.open_invoice(invoice=mi.pk, actor=ACTOR)
        mi.status = "ongoing"
        return None
    if kind == "consume":
        if not mi.lines:
            raise LookupError
        line = InvoiceLine.objects.filter(invoice_id=mi.pk).order_by("position", "id").first()
        services.update_line(line=line, quantity=qty_str(op[2]), actor=ACTOR)
        mi.lines[0] = (qty_str(op[2]), mi.lines[0][1])
        return None
    if kind == "issue":
        services.post_invoice(invoice=mi.pk, actor=ACTOR)
        mi.status, mi.numbered = "due", True
        model.balances[mi.account] -= total
        return None
    if kind == "cancel":
        services.void_invoice(invoice=mi.pk, actor=ACTOR)
        if mi.status == "due":
            model.balances[mi.account] += total
        mi.status = "cancelled"
        return None
    raise AssertionError(kind)


def expected_refusal(model: Model, op) -> type[BillingError] | None:
    """What the model says about an invoice operation, before it runs."""
    kind = op[0]
    if kind not in ("open", "issue", "cancel", "consume") or not model.invoices:
        return None
    mi = model.invoices[op[1] % len(model.invoices)]
    if kind == "open":
        return None if mi.status == "draft" else StateConflict
    if kind == "consume":
        return None if mi.status in EDITABLE else StateConflict
    if kind == "issue":
        if mi.status not in EDITABLE:
            return StateConflict
        total = mi.total(model.accounts[mi.account].currency)
        return InvalidInput if total == 0 else None
    if kind == "cancel":
        return None if mi.status in ("draft", "ongoing", "due") else StateConflict
    return None


def refuse(account, variant):
    """Operations that are always refused."""
    currency = account.currency
    too_precise = "1.001" if currency == "GBP" else "1.5"
    if variant == "line_precision":
        services.create_invoice(
            account=account, actor=ACTOR, lines=[LineSpec("Item", "1", too_precise)]
        )
    elif variant == "line_negative":
        services.create_invoice(account=account, actor=ACTOR, lines=[LineSpec("Item", "-1", "1")])
    else:
        amount = {
            "precision": too_precise,
            "zero": Money(0, currency),
            "float": 10.0,
            "currency": Money("10", "EUR"),
        }[variant]
        services.post(
            account=account,
            postings=[Posting(kind="PAYM", amount=amount, reference="PAYM-BAD")],
            actor=ACTOR,
        )
    raise AssertionError(f"{variant} was not refused")


REFUSAL_TYPES = {
    "precision": InvalidAmount,
    "zero": InvalidAmount,
    "float": InvalidAmount,
    "currency": CurrencyMismatch,
    "line_precision": InvalidAmount,
    "line_negative": InvalidInput,
}


def run_ops(currencies, operations):
    accounts = [
        services.create_account(
            name=f"Prop {i}", email=f"p{i}@example.test", currency=c, actor=ACTOR
        )
        for i, c in enumerate(currencies)
    ]
    model = Model(accounts=accounts, balances=[Decimal(0)] * len(accounts))
    for op in operations:
        expected = REFUSAL_TYPES[op[2]] if op[0] == "bad" else expected_refusal(model, op)
        before = db_state(model) if expected else None
        try:
            # Each operation in a savepoint, as a caller's transaction would hold it.
            with transaction.atomic():
                apply(model, op)
        except LookupError:
            continue
        except BillingError as err:
            assert expected is not None, f"{op} refused unexpectedly: {err.detail}"
            assert type(err) is expected, f"{op}: {type(err).__name__}: {err.detail}"
            assert err.detail and err.http_status in (409, 422)
            assert db_state(model) == before, f"refused {op} changed something"
        else:
            assert expected is None, f"{op} should have been refused with {expected.__name__}"
        check_invariants(model)
    call_command("verify_ledger", *[f"--account={a.pk}" for a in accounts], stdout=_Null())


class _Null:
    def write(self, *_args, **_kwargs):
        pass

    def flush(self):
        pass


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    currencies=st.lists(st.sampled_from(["GBP", "JPY"]), min_size=1, max_size=2),
    first=st.lists(create, min_size=1, max_size=3),  # invoices to work on from step 1
    operations=st.lists(ops, min_size=8, max_size=25),
)
def test_any_sequence_of_operations_keeps_the_ledger_consistent(db, currencies, first, operations):
    with transaction.atomic():
        run_ops(currencies, first + operations)
        transaction.set_rollback(True)  # the next example starts from an empty ledger


def test_worked_example_through_the_model(db):
    """A fixed sequence, so a regression shows up even with hypothesis's database cold."""
    with transaction.atomic():
        run_ops(
            ["GBP", "JPY"],
            [
                ("create", 0, [(10_000, 7_500)]),  # 1 x 75.00
                ("credit", 0, "PAYM", 5_000),
                ("issue", 0),
                ("cancel", 0),
                ("cancel", 0),  # refused: already cancelled
                ("issue", 0),  # refused: cancelled
                ("create", 1, [(25_000, 3)]),  # 2.5 x ¥3 = ¥7.5 -> ¥8
                ("open", 1),
                ("consume", 1, 35_000),  # 3.5 x ¥3 = ¥10.5 -> ¥11
                ("issue", 1),
                ("bad", 1, "precision"),
                ("bad", 0, "currency"),
                ("create", 0, []),
                ("issue", 2),  # refused: nothing to charge
            ],
        )
        jpy = Account.objects.get(name="Prop 1")
        assert jpy.balance == Money("-11", "JPY")
        assert Account.objects.get(name="Prop 0").balance == Money("50.00", "GBP")
        transaction.set_rollback(True)
