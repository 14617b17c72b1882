"""Benchmark 2: posting throughput on PostgreSQL, service vs raw-SQL baseline, and what
the hash chain costs.

Each worker is a separate process with its own connection. Every transaction appends
one ``PAYM`` credit to an account:

* ``service``: ``ledger.services.posting.post(account=..., postings=[Posting(...)])``;
* ``service, chain off``: the same with the statement built without the hash chain
  (``posting_sql.build_statement(chained=False)``: no sha256, empty digests) — for this
  comparison only;
* ``raw``: psycopg directly, the same work by hand — ``BEGIN; SELECT ... FOR UPDATE;
  INSERT entry; UPDATE account; COMMIT`` with seq, balance and digest computed in
  Python (Decimal, ``ledger.chain``).

Configurations: 1 worker; 2 workers on ONE hot account (they queue on its row lock);
2 workers each on its own account. Workers warm up, meet at a barrier, then post for a
fixed duration; figures are the best of the rounds (service and raw interleaved).
"""

import cProfile
import io
import multiprocessing as mp
import os
import pstats
import statistics
import time
from decimal import Decimal

from .common import percentile, setup_django

DURATION = float(os.environ.get("BENCH_POST_SECONDS") or 3)
ROUNDS = int(os.environ.get("BENCH_POST_ROUNDS") or 5)
WARMUP = 20
AMOUNTS = [Decimal("12.34"), Decimal("0.01"), Decimal("250.00"), Decimal("99.99")]
UNCHAINED = "service, chain off"
IMPLS = ("raw", "service", UNCHAINED)
CONFIGS = (
    ("1 worker", 1, "hot"),
    ("2 workers, one hot account", 2, "hot"),
    ("2 workers, own accounts", 2, "own"),
)


def service_op(account_id: int, chained: bool = True):
    from moneyed import Money

    from ledger.models import Account
    from ledger.services import posting_sql
    from ledger.services.actors import system_actor
    from ledger.services.posting import Posting, post

    statements = {
        many: posting_sql.build_statement(many=many, chained=chained) for many in (False, True)
    }

    actor = system_actor("bench")
    currency = Account.objects.values_list("currency", flat=True).get(pk=account_id)
    tag = f"S{os.getpid()}"
    counter = iter(range(10**12))

    def op():
        n = next(counter)
        posting_sql.STATEMENTS = statements  # this op's variant (chain on or off)
        post(
            account=account_id,
            postings=[
                Posting(
                    kind="PAYM",
                    amount=Money(AMOUNTS[n % len(AMOUNTS)], currency),
                    reference=f"PAYM-{tag}-{n}",
                    description="Benchmark payment",
                    method="bank_transfer",
                )
            ],
            actor=actor,
        )

    return op, lambda: None


LOCK_SQL = (
    "SELECT balance, last_seq, last_posted_at, currency, last_digest FROM ledger_account "
    "WHERE id = %s FOR UPDATE"
)
INSERT_SQL = (
    "INSERT INTO ledger_ledgerentry (account_id, seq, posted_at, kind, reference, "
    "description, currency, debit, credit, balance_after, method, actor_label, digest) "
    "VALUES (%s, %s, %s, 'PAYM', %s, %s, %s, 0, %s, %s, 'bank_transfer', %s, %s)"
)
UPDATE_SQL = (
    "UPDATE ledger_account SET balance = %s, last_seq = %s, last_posted_at = %s, "
    "last_digest = %s WHERE id = %s"
)


def raw_op(account_id: int, timed=None, chained: bool = True):
    """The same posting by hand: BEGIN; lock; insert; update; COMMIT (explicit
    statements on an autocommit psycopg connection, which prepares them after a few
    uses), the seq, balance and — with ``chained`` — the hash-chain digest computed in
    Python (``ledger.chain``). Without ``chained`` the digest is left empty."""
    from datetime import UTC, datetime

    import psycopg

    from ledger import chain

    conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    tag = f"R{os.getpid()}"
    counter = iter(range(10**12))

    def call(phase, fn, *args):
        return timed(phase, fn, *args) if timed else fn(*args)

    def op():
        n = next(counter)
        amount = AMOUNTS[n % len(AMOUNTS)]
        with conn.cursor() as cur:
            call("lock", cur.execute, "BEGIN")
            try:
                call("lock", cur.execute, LOCK_SQL, (account_id,))
                balance, last_seq, last_posted_at, currency, last_digest = cur.fetchone()
                seq = last_seq + 1
                balance = balance + amount
                now = datetime.now(UTC)
                if last_posted_at is not None and now < last_posted_at:
                    now = last_posted_at
                entry = {
                    "account_id": account_id,
                    "seq": seq,
                    "posted_at": now,
                    "kind": "PAYM",
                    "reference": f"PAYM-{tag}-{n}",
                    "description": "Benchmark payment",
                    "currency": currency,
                    "debit": Decimal(0),
                    "credit": amount,
                    "balance_after": balance,
                    "method": "bank_transfer",
                    "invoice_id": None,
                    "source_type_id": None,
                    "source_id": None,
                    "actor_id": None,
                    "actor_label": "system:bench",
                }
                digest = chain.entry_digest(last_digest, entry) if chained else ""
                params = (
                    account_id,
                    seq,
                    now,
                    entry["reference"],
                    entry["description"],
                    currency,
                    amount,
                    balance,
                    entry["actor_label"],
                    digest,
                )
                call("insert", cur.execute, INSERT_SQL, params)
                call(
                    "update",
                    cur.execute,
                    UPDATE_SQL,
                    (balance, seq, now, digest or last_digest, account_id),
                )
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            call("commit", cur.execute, "COMMIT")

    return op, conn.close


def worker(impl: str, account_id: int, duration: float, barrier, queue, index: int) -> None:
    """One posting process: warm up, wait for the others, post until ``duration``."""
    try:
        setup_django()
        if impl == "raw":
            op, close = raw_op(account_id)
        else:
            op, close = service_op(account_id, chained=impl != UNCHAINED)
        for _ in range(WARMUP):
            op()
        barrier.wait(timeout=120)
        latencies = []
        start = time.perf_counter()
        while True:
            t = time.perf_counter()
            op()
            now = time.perf_counter()
            latencies.append(now - t)
            if now - start >= duration:
                break
        close()
        from django.db import connections

        connections.close_all()
        queue.put(
            {
                "index": index,
                "count": len(latencies),
                "elapsed": now - start,
                "p50_ms": percentile(latencies, 50) * 1000,
                "p99_ms": percentile(latencies, 99) * 1000,
            }
        )
    except Exception as exc:  # reported by the parent, which fails the run
        barrier.abort()
        queue.put({"index": index, "error": f"{type(exc).__name__}: {exc}"})


def run_config(impl: str, account_ids: list[int], duration: float) -> dict:
    from django.db import connections

    connections.close_all()  # never share the parent's connection with forked workers
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(len(account_ids))
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(impl, acc, duration, barrier, queue, i))
        for i, acc in enumerate(account_ids)
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=duration + 300) for _ in procs]
    for p in procs:
        p.join()
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        raise RuntimeError(f"{impl} workers failed: {'; '.join(errors)}")
    total = sum(r["count"] for r in results)
    elapsed = max(r["elapsed"] for r in results)
    return {
        "rate": total / elapsed,
        "count": total,
        "p50_ms": statistics.median(r["p50_ms"] for r in results),
        "p99_ms": max(r["p99_ms"] for r in results),
    }


def _phase_of(sql: str) -> str:
    word = sql.lstrip().split(None, 1)[0].upper()
    # The service on PostgreSQL posts in one statement: "WITH RECURSIVE acc AS (SELECT
    # ... FOR NO KEY UPDATE), ... INSERT ..., UPDATE ... SELECT".
    phases = {"SELECT": "lock", "INSERT": "insert", "UPDATE": "update", "WITH": "statement"}
    return phases.get(word, "other")


PHASE_LABELS = {
    "lock": "BEGIN + SELECT ... FOR UPDATE",
    "statement": "the one posting statement (lock, number, chain, insert, move the account; "
    "autocommit: its COMMIT included)",
    "insert": "INSERT entry",
    "update": "UPDATE account",
    "other": "other SQL",
    "commit": "COMMIT",
    "python": "Python outside the SQL calls (validation, parameters, the returned objects)",
}


def _instrumented(impl: str, account_id: int):
    """(op, spent, undo): an op whose SQL calls and COMMIT add their wall time to
    ``spent[phase]``; ``undo`` removes the hooks and closes the connection."""
    from django.db import connection

    spent = dict.fromkeys(PHASE_LABELS, 0.0)

    def timed(phase, fn, *args):
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            spent[phase] += time.perf_counter() - start

    if impl == "raw":
        op, close = raw_op(account_id, timed=timed)
        return op, spent, close
    op, _ = service_op(account_id, chained=impl != UNCHAINED)

    def hooked():
        with connection.execute_wrapper(
            lambda execute, sql, params, many, context: timed(
                _phase_of(sql), execute, sql, params, many, context
            )
        ):
            op()

    return hooked, spent, lambda: None


def _top_functions(op, n: int) -> list[tuple]:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        op()
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    rows = []
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():
        short = "/".join(filename.split("/")[-2:])
        name = f"{short}:{line}({func})" if line else func
        rows.append((tottime, cumtime, ncalls, name))
    rows.sort(reverse=True)
    return [(name, nc / n, tot / n * 1e6, cum / n * 1e6) for tot, cum, nc, name in rows[:12]]


def profile_service(accounts: dict[str, int], n: int = 600) -> dict:
    """One process, no contention: the three implementations call after call in turn
    (raw, service, service with the chain off, the order rotating each time), so load
    from other processes hits all alike; each SQL call timed (wall), the rest is
    Python; total wall and client CPU (``process_time``) per posting. Then cProfile of
    the service's top functions.

    The chain's cost is judged here: alternating single calls on one machine state is
    the finest pairing there is; separate runs of a few seconds differ by more than
    what is measured whenever the shared machine's load moves."""
    from django.db import connection

    ops = {impl: _instrumented(impl, accounts[impl]) for impl in IMPLS}
    for op, _spent, _undo in ops.values():
        for _ in range(WARMUP):
            op()
    totals = {impl: {"wall": 0.0, "cpu": 0.0} for impl in ops}
    samples = {impl: [] for impl in ops}
    for _op, spent, _undo in ops.values():
        for key in spent:
            spent[key] = 0.0
    order = list(ops)
    for i in range(n):
        for impl in order[i % len(order) :] + order[: i % len(order)]:  # rotating order
            op = ops[impl][0]
            wall, cpu = time.perf_counter(), time.process_time()
            op()
            took = time.perf_counter() - wall
            samples[impl].append(took)
            totals[impl]["wall"] += took
            totals[impl]["cpu"] += time.process_time() - cpu
    phases, costs = {}, {}
    for impl, (_op, spent, undo) in ops.items():
        undo()
        spent["python"] = totals[impl]["wall"] - sum(v for k, v in spent.items() if k != "python")
        phases[impl] = {k: v / n * 1e6 for k, v in spent.items()}
        costs[impl] = {k + "_us": v / n * 1e6 for k, v in totals[impl].items()}
        costs[impl]["median_us"] = statistics.median(samples[impl]) * 1e6
    op, _ = service_op(accounts["service"])
    top = _top_functions(op, n)
    connection.close()
    return {
        "postings": n,
        "costs": costs,
        "phases": [
            (label, *(phases[impl][key] for impl in IMPLS)) for key, label in PHASE_LABELS.items()
        ],
        "top": top,
    }


def count_service_queries(account_id: int) -> list[str]:
    """The SQL one service posting sends (to compare with the baseline's 3 + BEGIN/COMMIT)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    op, _ = service_op(account_id)
    with CaptureQueriesContext(connection) as ctx:
        op()
    return [q["sql"][:110] for q in ctx.captured_queries]


def _accounts(actor) -> dict:
    from ledger.services.accounts import create_account

    accounts = {}
    for impl in IMPLS:
        for role in ("hot", "own-1", "own-2", "profile"):
            slug = impl.replace(", ", "-").replace(" ", "-")
            accounts[(impl, role)] = create_account(
                name=f"Bench posting {impl} {role}",
                email=f"{slug}-{role}@bench.example",
                currency="GBP",
                actor=actor,
            ).pk
    return accounts


def _rounds(accounts: dict) -> dict:
    """Every configuration and implementation, ``ROUNDS`` times, the implementations of
    one configuration back to back in a rotating order (the pairing of a round)."""
    samples = {(label, impl): [] for label, _, _ in CONFIGS for impl in IMPLS}
    for rnd in range(ROUNDS):
        for label, workers, mode in CONFIGS:
            shift = rnd % len(IMPLS)
            for impl in IMPLS[shift:] + IMPLS[:shift]:
                if mode == "hot":
                    ids = [accounts[(impl, "hot")]] * workers
                else:
                    ids = [accounts[(impl, f"own-{i + 1}")] for i in range(workers)]
                r = run_config(impl, ids, DURATION)
                samples[(label, impl)].append(r)
                print(
                    f"  round {rnd + 1} {label:<28} {impl:<18} {r['rate']:8.1f} postings/s "
                    f"(p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms)",
                    flush=True,
                )
    return samples


def _figures(samples: dict) -> dict:
    figures = {}
    for (label, impl), runs in samples.items():
        raw_runs = samples[(label, "raw")]
        off_runs = samples[(label, UNCHAINED)]
        figures[(label, impl)] = {
            "rate": statistics.median(r["rate"] for r in runs),
            "best": max(r["rate"] for r in runs),
            "rates": [r["rate"] for r in runs],
            # Paired with the raw / chain-off run of the same round.
            "vs_raw": statistics.median(
                r["rate"] / b["rate"] for r, b in zip(runs, raw_runs, strict=True)
            ),
            "vs_unchained": statistics.median(
                r["rate"] / b["rate"] for r, b in zip(runs, off_runs, strict=True)
            ),
            "p50_ms": statistics.median(r["p50_ms"] for r in runs),
            "p99_ms": statistics.median(r["p99_ms"] for r in runs),
            "count": sum(r["count"] for r in runs),
        }
    return figures


def run() -> dict:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from ledger.services.actors import system_actor

    accounts = _accounts(system_actor("bench"))
    print(
        f"posting: {len(CONFIGS)} configurations x {len(IMPLS)} implementations x "
        f"{ROUNDS} rounds x {DURATION:g} s",
        flush=True,
    )
    figures = _figures(_rounds(accounts))
    queries = count_service_queries(accounts[("service", "profile")])
    profile = profile_service({impl: accounts[(impl, "profile")] for impl in IMPLS})

    chained = sorted(pk for (impl, _role), pk in accounts.items() if impl != UNCHAINED)
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_ledger", account=chained, require_chain=True, stdout=out, stderr=err)
        ok = True
    except CommandError as exc:
        ok = False
        err.write(str(exc))
    return {
        "figures": figures,
        "queries": queries,
        "profile": profile,
        "verified": [(chained, ok, (out.getvalue() + err.getvalue()).strip())],
        "duration": DURATION,
        "rounds": ROUNDS,
    }
