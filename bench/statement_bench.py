"""Benchmark 1: the statement page — the admin payments tab, the member statement and
the API statement — at 1,000 vs 10,000,000 entries, newest and deep pages.

Entries are loaded with one ``INSERT ... SELECT FROM generate_series`` per account, in
a closed form that is a consistent ledger (checked afterwards by ``verify_ledger``):
entries come in pairs k = 1, 2, ...; seq 2k-1 is an ``INVC`` debit of a_k and seq 2k a
``PAYM`` credit of a_k + 1.00, with a_k = 10.00 + ((37 k) mod 1000) / 100, so

    balance_after(2k-1) = (k - 1) - a_k        balance_after(2k) = k

(amounts vary, the balance crosses zero on every pair). ``posted_at`` grows by one
second per entry and ends an hour before the load. The append-only trigger refuses
only UPDATE/DELETE, so the bulk insert goes through the real table and indexes. The
entries are hash-chained (``ledger.chain``) in the same statement: each digest is a
running aggregate over seq (``bench_chain``), so ``verify_ledger`` holds for them.
"""

import io
import os
import re
import time
from datetime import timedelta

from ledger import chain

from .common import Timer, median_ms, percentile

WARMUP = 10
REQUESTS = 60

# The hash chain of the loaded entries (``ledger.chain``) as a running aggregate over seq:
# ``bench_chain(content) OVER (ORDER BY seq)`` is each entry's digest. Created in the
# throw-away benchmark database only.
CHAIN_AGGREGATE_SQL = f"""
CREATE OR REPLACE FUNCTION bench_chain_step(state bytea, content text) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RETURN {chain.sql_link("state", "content")}; END $$;
CREATE OR REPLACE AGGREGATE bench_chain(text) (
    SFUNC = bench_chain_step, STYPE = bytea, INITCOND = '\\x{chain.GENESIS}'
);
"""

# The entries, one row per seq ``g.s`` (see the module docstring).
_GENERATED = {
    "account_id": "%(account)s::bigint",
    "seq": "g.s",
    "posted_at": "%(t0)s::timestamptz + g.s * interval '1 second'",
    "kind": "CASE WHEN g.odd THEN 'INVC' ELSE 'PAYM' END",
    "reference": "CASE WHEN g.odd THEN 'INVC-B' ELSE 'PAYM-B' END || %(account)s || '-' || g.k",
    "description": (
        "CASE WHEN g.odd THEN 'Benchmark invoice ' ELSE 'Benchmark payment ' END || g.k"
    ),
    "currency": "%(currency)s::text",
    "debit": "CASE WHEN g.odd THEN g.a ELSE 0 END",
    "credit": "CASE WHEN g.odd THEN 0 ELSE g.a + 1 END",
    "balance_after": "CASE WHEN g.odd THEN (g.k - 1) - g.a ELSE g.k END",
    "method": "CASE WHEN g.odd THEN '' ELSE 'bank_transfer' END",
    "invoice_id": "NULL::bigint",
    "source_type_id": "NULL::integer",
    "source_id": "NULL::bigint",
    "actor_id": "NULL::integer",
    "actor_label": "'system:bench'",
}
_DIGEST = (
    f"encode(bench_chain({chain.sql_content(_GENERATED)}) "
    "OVER (ORDER BY g.s ROWS UNBOUNDED PRECEDING), 'hex')"
)

LOAD_SQL = f"""
INSERT INTO ledger_ledgerentry ({", ".join(_GENERATED)}, digest)
SELECT {", ".join(_GENERATED.values())}, {_DIGEST}
FROM (
    SELECT s, s %% 2 = 1 AS odd, (s + 1) / 2 AS k,
           10 + (((s + 1) / 2 * 37) %% 1000)::numeric / 100 AS a
    FROM generate_series(1, %(n)s::bigint) AS s
) AS g
"""

SYNC_ACCOUNT_SQL = """
UPDATE ledger_account AS a
   SET balance = e.balance_after, last_seq = e.seq, last_posted_at = e.posted_at,
       last_digest = e.digest
  FROM (SELECT balance_after, seq, posted_at, digest FROM ledger_ledgerentry
         WHERE account_id = %(account)s ORDER BY seq DESC LIMIT 1) AS e
 WHERE a.id = %(account)s
"""


def reference_of(account_id: int, seq: int) -> str:
    """The reference ``LOAD_SQL`` gives entry ``seq`` (to check a page shows it)."""
    k = (seq + 1) // 2
    return f"{'INVC' if seq % 2 else 'PAYM'}-B{account_id}-{k}"


def load_entries(account, n: int) -> float:
    """Append ``n`` entries to an empty account in one statement; return seconds."""
    from django.db import connection, transaction
    from django.utils import timezone

    t0 = timezone.now() - timedelta(seconds=n + 3600)
    with Timer() as t, transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL statement_timeout = 0")  # a 10M-row load takes minutes
        cur.execute("SET LOCAL work_mem = '1GB'")  # the seq sort for the chain, in memory
        cur.execute(CHAIN_AGGREGATE_SQL)
        cur.execute(
            LOAD_SQL, {"account": account.pk, "t0": t0, "n": n, "currency": account.currency}
        )
        cur.execute(SYNC_ACCOUNT_SQL, {"account": account.pk})
    account.refresh_from_db()
    return t.seconds


def vacuum_analyze() -> None:
    """What autovacuum would do soon after a bulk load (visibility map, statistics),
    then a checkpoint so the load's writes do not spill into later measurements."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SET statement_timeout = 0")
        cur.execute("VACUUM (ANALYZE) ledger_ledgerentry")
        cur.execute("VACUUM (ANALYZE) ledger_account")
        cur.execute("CHECKPOINT")
        cur.execute("RESET statement_timeout")


FACES = {
    "admin": "admin payments tab (`admin:ledger_account_payments`, superuser)",
    "member": "member statement (`member-statement`, a member of the account)",
    "api": "API statement (`GET /api/v1/accounts/<id>/statement/`, API key)",
}


class Faces:
    """The three statement pages, each through ``django.test.Client`` with the full
    middleware and DEBUG off, as its own kind of user."""

    def __init__(self, superuser, member, api_key: str):
        from django.test import Client

        self.clients = {"admin": Client(), "member": Client(), "api": Client()}
        self.clients["admin"].force_login(superuser)
        self.clients["member"].force_login(member)
        self.headers = {"api": {"HTTP_AUTHORIZATION": f"Bearer {api_key}"}}

    def url(self, face: str, account_id: int, before: int | None) -> str:
        from django.urls import reverse

        if face == "api":
            url = f"/api/v1/accounts/{account_id}/statement/"
        else:
            name = "admin:ledger_account_payments" if face == "admin" else "member-statement"
            url = reverse(name, args=[account_id])
        return f"{url}?before={before}" if before is not None else url

    def fetch(self, face: str, account_id: int, before: int | None) -> str:
        url = self.url(face, account_id, before)
        response = self.clients[face].get(url, secure=True, **self.headers.get(face, {}))
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        return response.content.decode()


def shows(body: str, reference: str) -> bool:
    return re.search(re.escape(reference) + r"(?!\d)", body) is not None


def measure_pages(faces: Faces, targets: list[tuple[str, int, int | None]]) -> list[dict]:
    """For each (face, account id, before): warm up, then the median of ``REQUESTS``
    requests, interleaved round-robin across the targets so that background load on the
    machine hits every target alike; the query count of one request; the page body."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        for target in targets:
            faces.fetch(*target)
    samples = [[] for _ in targets]
    for _ in range(REQUESTS):
        for i, target in enumerate(targets):
            start = time.perf_counter()
            faces.fetch(*target)
            samples[i].append(time.perf_counter() - start)
    results = []
    for i, target in enumerate(targets):
        with CaptureQueriesContext(connection) as ctx:
            body = faces.fetch(*target)
        results.append(
            {
                "median_ms": median_ms(samples[i]),
                "p95_ms": percentile(samples[i], 95) * 1000,
                "queries": len(ctx.captured_queries),
                "body": body,
            }
        )
    return results


def verify(account_id: int) -> tuple[bool, float, str]:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    out, err = io.StringIO(), io.StringIO()
    with Timer() as t:
        try:
            call_command(
                "verify_ledger", account=[account_id], require_chain=True, stdout=out, stderr=err
            )
            ok = True
        except CommandError as exc:
            ok = False
            err.write(str(exc))
    return ok, t.seconds, (out.getvalue() + err.getvalue()).strip()


def _world():
    from django.contrib.auth import get_user_model

    from billing_site.api.models import ApiKey
    from ledger.services.accounts import create_account
    from ledger.services.actors import system_actor

    actor = system_actor("bench")
    users = get_user_model().objects
    stamp = f"{os.getpid()}{int(time.time())}"
    superuser = users.create_superuser(f"bench-admin-{stamp}", "bench@example.com", None)
    member = users.create_user(f"bench-member-{stamp}", password=None)
    _key, raw_key = ApiKey.create_with_key(name=f"statement bench {stamp}")
    small, big = (
        create_account(
            name=f"Bench {label}", email="b@bench.example", currency="GBP", actor=actor,
            members=[member],
        )
        for label in ("1k", "10M")
    )  # fmt: skip
    return Faces(superuser, member, raw_key), small, big


def _measure(result: dict, faces: Faces, group: list[tuple[str, object, int]]) -> None:
    """Both pages of every face for each (label, account, n) of ``group``, interleaved;
    checks that each page shows the entries it should."""
    targets, keys = [], []
    for face in FACES:
        for label, account, n in group:
            for page, before in (("newest", None), ("deep", n // 2)):
                targets.append((face, account.pk, before))
                keys.append((face, label, page, account.pk, n, before))
    for (face, label, page, account_id, n, before), m in zip(
        keys, measure_pages(faces, targets), strict=True
    ):
        # The newest page shows entry n; the deep page entry before-1, not before.
        shown = n if before is None else before - 1
        ok = shows(m["body"], reference_of(account_id, shown))
        if before is not None:
            ok = ok and not shows(m["body"], reference_of(account_id, before + 1))
        result["checks"].append((f"{face} {label} {page} page shows the right entries", ok))
        del m["body"]
        result["pages"][(face, label, page)] = m
        print(
            f"  {face:<6} {label:<18} {page:<6} {m['median_ms']:7.2f} ms median "
            f"(p95 {m['p95_ms']:.2f}), {m['queries']} queries",
            flush=True,
        )


def run(small_n: int = 1_000, big_n: int | None = None) -> dict:
    big_n = big_n or int(os.environ.get("BENCH_BIG_N") or 10_000_000)
    faces, small, big = _world()
    result = {"small_n": small_n, "big_n": big_n, "pages": {}, "checks": [], "faces": FACES}
    result["load_small_s"] = load_entries(small, small_n)
    vacuum_analyze()
    print("statement pages: admin, member, API", flush=True)
    _measure(result, faces, [("1k (small table)", small, small_n)])

    print(f"loading {big_n:,} entries ...", flush=True)
    result["load_big_s"] = load_entries(big, big_n)
    with Timer() as t:
        vacuum_analyze()
    result["vacuum_s"] = t.seconds
    print(f"  loaded in {result['load_big_s']:.1f} s (+{t.seconds:.1f} s vacuum)", flush=True)
    _measure(result, faces, [("1k", small, small_n), ("10M", big, big_n)])

    result["verify_small"] = verify(small.pk)
    result["verify_big"] = verify(big.pk) if os.environ.get("BENCH_VERIFY_BIG") else None
    result["account_ids"] = (small.pk, big.pk)
    return result
