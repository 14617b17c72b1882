"""Benchmark 2: posting throughput on PostgreSQL, service vs raw-SQL baseline.

Each worker is a separate process with its own connection. Every transaction appends
one ``PAYM`` credit to an account:

* ``service``: ``ledger.services.posting.post(account=..., postings=[Posting(...)])``;
* ``raw``: psycopg directly, the same work by hand — ``BEGIN; SELECT ... FOR UPDATE;
  INSERT entry; UPDATE account; COMMIT`` with seq/balance computed in Python (Decimal).

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

DURATION = float(os.environ.get("BENCH_POST_SECONDS") or 8)
ROUNDS = int(os.environ.get("BENCH_POST_ROUNDS") or 3)
WARMUP = 20
AMOUNTS = [Decimal("12.34"), Decimal("0.01"), Decimal("250.00"), Decimal("99.99")]
IMPLS = ("raw", "service")
CONFIGS = (
    ("1 worker", 1, "hot"),
    ("2 workers, one hot account", 2, "hot"),
    ("2 workers, own accounts", 2, "own"),
)


def service_op(account_id: int):
    from moneyed import Money

    from ledger.models import Account
    from ledger.services.actors import system_actor
    from ledger.services.posting import Posting, post

    actor = system_actor("bench")
    currency = Account.objects.values_list("currency", flat=True).get(pk=account_id)
    tag = f"S{os.getpid()}"
    counter = iter(range(10**12))

    def op():
        n = next(counter)
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
    "SELECT balance, last_seq, last_posted_at, currency FROM ledger_account "
    "WHERE id = %s FOR UPDATE"
)
INSERT_SQL = (
    "INSERT INTO ledger_ledgerentry (account_id, seq, posted_at, kind, reference, "
    "description, currency, debit, credit, balance_after, method, actor_label) "
    "VALUES (%s, %s, %s, 'PAYM', %s, %s, %s, 0, %s, %s, 'bank_transfer', %s)"
)
UPDATE_SQL = (
    "UPDATE ledger_account SET balance = %s, last_seq = %s, last_posted_at = %s WHERE id = %s"
)


def raw_op(account_id: int, timed=None):
    from datetime import UTC, datetime

    import psycopg

    conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    tag = f"R{os.getpid()}"
    counter = iter(range(10**12))

    def call(phase, fn, *args):
        return timed(phase, fn, *args) if timed else fn(*args)

    def op():
        """BEGIN; lock; insert; update; COMMIT — explicit statements, autocommit conn."""
        n = next(counter)
        amount = AMOUNTS[n % len(AMOUNTS)]
        with conn.cursor() as cur:
            call("lock", cur.execute, "BEGIN")
            try:
                call("lock", cur.execute, LOCK_SQL, (account_id,))
                balance, last_seq, last_posted_at, currency = cur.fetchone()
                seq = last_seq + 1
                balance = balance + amount
                now = datetime.now(UTC)
                if last_posted_at is not None and now < last_posted_at:
                    now = last_posted_at
                params = (
                    account_id,
                    seq,
                    now,
                    f"PAYM-{tag}-{n}",
                    "Benchmark payment",
                    currency,
                    amount,
                    balance,
                    "system:bench",
                )
                call("insert", cur.execute, INSERT_SQL, params)
                call("update", cur.execute, UPDATE_SQL, (balance, seq, now, account_id))
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            call("commit", cur.execute, "COMMIT")

    return op, conn.close


def worker(impl: str, account_id: int, duration: float, barrier, queue, index: int) -> None:
    """One posting process: warm up, wait for the others, post until ``duration``."""
    try:
        setup_django()
        op, close = (service_op if impl == "service" else raw_op)(account_id)
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
    ctx = mp.get_context("spawn")
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
    # The service on PostgreSQL locks and advances the account in one statement:
    # "WITH old AS (SELECT ... FOR NO KEY UPDATE) UPDATE ... RETURNING".
    phases = {"SELECT": "lock", "INSERT": "insert", "UPDATE": "update", "WITH": "lock_update"}
    return phases.get(word, "other")


PHASE_LABELS = {
    "lock": "BEGIN + SELECT ... FOR UPDATE",
    "lock_update": "BEGIN + lock and UPDATE account in one statement (WITH ... UPDATE)",
    "insert": "INSERT entry",
    "update": "UPDATE account",
    "other": "other SQL",
    "commit": "COMMIT",
    "python": "Python outside the SQL calls (ORM query building, model/Money objects)",
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

    op, _ = service_op(account_id)

    def wrapper(execute, sql, params, many, context):
        return timed(_phase_of(sql), execute, sql, params, many, context)

    hook = connection.execute_wrapper(wrapper)
    hook.__enter__()
    real_commit = connection.commit
    connection.commit = lambda: timed("commit", real_commit)

    def undo():
        hook.__exit__(None, None, None)
        del connection.commit
        connection.close()

    return op, spent, undo


def profile_service(service_account: int, raw_account: int, n: int = 500) -> dict:
    """Where one posting spends its time, in this process (one worker, no contention).

    1. Service and raw posting alternately (so load from other processes hits both
       alike), each SQL call and COMMIT timed (wall), the rest is Python; total wall
       and client CPU (``process_time``) per posting.
    2. cProfile of the service: the top functions by own time.
    """
    from django.db import connection

    ops = {
        impl: _instrumented(impl, acc)
        for impl, acc in (("service", service_account), ("raw", raw_account))
    }
    for op, _spent, _undo in ops.values():
        for _ in range(WARMUP):
            op()
    totals = {impl: {"wall": 0.0, "cpu": 0.0} for impl in ops}
    for _op, spent, _undo in ops.values():
        for key in spent:
            spent[key] = 0.0
    for _ in range(n):
        for impl, (op, _spent, _undo) in ops.items():
            wall, cpu = time.perf_counter(), time.process_time()
            op()
            totals[impl]["wall"] += time.perf_counter() - wall
            totals[impl]["cpu"] += time.process_time() - cpu
    phases, costs = {}, {}
    for impl, (_op, spent, undo) in ops.items():
        undo()
        spent["python"] = totals[impl]["wall"] - sum(v for k, v in spent.items() if k != "python")
        phases[impl] = {k: v / n * 1e6 for k, v in spent.items()}
        costs[impl] = {k + "_us": v / n * 1e6 for k, v in totals[impl].items()}

    op, _ = service_op(service_account)
    for _ in range(WARMUP):
        op()
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
    connection.close()
    return {
        "postings": n,
        "costs": costs,
        "phases": [
            (label, phases["service"][key], phases["raw"][key])
            for key, label in PHASE_LABELS.items()
        ],
        "top": [
            (name, ncalls / n, tot / n * 1e6, cum / n * 1e6) for tot, cum, ncalls, name in rows[:12]
        ],
    }


def count_service_queries(account_id: int) -> list[str]:
    """The SQL one service posting sends (to compare with the baseline's 3 + BEGIN/COMMIT)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    op, _ = service_op(account_id)
    with CaptureQueriesContext(connection) as ctx:
        op()
    return [q["sql"][:110] for q in ctx.captured_queries]


def run() -> dict:
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.db import connections

    from ledger.services.accounts import create_account
    from ledger.services.actors import system_actor

    actor = system_actor("bench")
    accounts = {}
    for impl in IMPLS:
        for role in ("hot", "own-1", "own-2"):
            accounts[(impl, role)] = create_account(
                name=f"Bench posting {impl} {role}",
                email=f"{impl}-{role}@bench.example",
                currency="GBP",
                actor=actor,
            ).pk
    profile_account, profile_raw_account = (
        create_account(
            name=f"Bench posting profile {impl}",
            email=f"profile-{impl}@bench.example",
            currency="GBP",
            actor=actor,
        ).pk
        for impl in ("service", "raw")
    )
    connections.close_all()  # no connection shared with the spawned workers

    samples = {(label, impl): [] for label, _, _ in CONFIGS for impl in IMPLS}
    print(
        f"posting: {len(CONFIGS)} configurations x {len(IMPLS)} implementations x "
        f"{ROUNDS} rounds x {DURATION:g} s",
        flush=True,
    )
    for rnd in range(ROUNDS):
        for label, workers, mode in CONFIGS:
            impls = IMPLS if (rnd % 2 == 0) else tuple(reversed(IMPLS))
            for impl in impls:
                if mode == "hot":
                    ids = [accounts[(impl, "hot")]] * workers
                else:
                    ids = [accounts[(impl, f"own-{i + 1}")] for i in range(workers)]
                r = run_config(impl, ids, DURATION)
                samples[(label, impl)].append(r)
                print(
                    f"  round {rnd + 1} {label:<28} {impl:<7} {r['rate']:8.1f} postings/s "
                    f"(p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms)",
                    flush=True,
                )

    figures = {}
    for key, runs in samples.items():
        figures[key] = {
            # Best round: the one least disturbed by other load on a shared machine.
            "rate": max(r["rate"] for r in runs),
            "rates": [r["rate"] for r in runs],
            "p50_ms": statistics.median(r["p50_ms"] for r in runs),
            "p99_ms": statistics.median(r["p99_ms"] for r in runs),
            "count": sum(r["count"] for r in runs),
        }

    queries = count_service_queries(profile_account)
    profile = profile_service(profile_account, profile_raw_account)

    verified = []
    all_ids = sorted({*accounts.values(), profile_account, profile_raw_account})
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_ledger", account=all_ids, stdout=out, stderr=err)
        ok = True
    except CommandError as exc:
        ok = False
        err.write(str(exc))
    verified.append((all_ids, ok, (out.getvalue() + err.getvalue()).strip()))
    return {
        "figures": figures,
        "queries": queries,
        "profile": profile,
        "verified": verified,
        "duration": DURATION,
        "rounds": ROUNDS,
    }
