"""Benchmark 1: the payments tab (statement page) at 1,000 vs 1,000,000 entries.

Entries are loaded with one ``INSERT ... SELECT FROM generate_series`` per account, in
a closed form that is a consistent ledger (checked afterwards by ``verify_ledger``):
entries come in pairs k = 1, 2, ...; seq 2k-1 is an ``INVC`` debit of a_k and seq 2k a
``PAYM`` credit of a_k + 1.00, with a_k = 10.00 + ((37 k) mod 1000) / 100, so

    balance_after(2k-1) = (k - 1) - a_k        balance_after(2k) = k

(amounts vary, the balance crosses zero on every pair). ``posted_at`` grows by one
second per entry and ends an hour before the load. The append-only trigger refuses
only UPDATE/DELETE, so the bulk insert goes through the real table and indexes.
"""

import io
import os
import time
from datetime import timedelta

from .common import Timer, median_ms, percentile

WARMUP = 10
REQUESTS = 60

LOAD_SQL = """
INSERT INTO ledger_ledgerentry (
    account_id, seq, posted_at, kind, reference, description, currency,
    debit, credit, balance_after, method, actor_label
)
SELECT
    %(account)s,
    g.s,
    %(t0)s::timestamptz + g.s * interval '1 second',
    CASE WHEN g.odd THEN 'INVC' ELSE 'PAYM' END,
    CASE WHEN g.odd THEN 'INVC-B' ELSE 'PAYM-B' END || %(account)s || '-' || g.k,
    CASE WHEN g.odd THEN 'Benchmark invoice ' ELSE 'Benchmark payment ' END || g.k,
    %(currency)s,
    CASE WHEN g.odd THEN g.a ELSE 0 END,
    CASE WHEN g.odd THEN 0 ELSE g.a + 1 END,
    CASE WHEN g.odd THEN (g.k - 1) - g.a ELSE g.k END,
    CASE WHEN g.odd THEN '' ELSE 'bank_transfer' END,
    'system:bench'
FROM (
    SELECT s, s %% 2 = 1 AS odd, (s + 1) / 2 AS k,
           10 + (((s + 1) / 2 * 37) %% 1000)::numeric / 100 AS a
    FROM generate_series(1, %(n)s::bigint) AS s
) AS g
"""

SYNC_ACCOUNT_SQL = """
UPDATE ledger_account AS a
   SET balance = e.balance_after, last_seq = e.seq, last_posted_at = e.posted_at
  FROM (SELECT balance_after, seq, posted_at FROM ledger_ledgerentry
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
        cur.execute("VACUUM (ANALYZE) ledger_ledgerentry")
        cur.execute("VACUUM (ANALYZE) ledger_account")
        cur.execute("CHECKPOINT")


class PageProbe:
    """Requests one statement page, through the real admin view when it exists."""

    URL_NAME = "admin:ledger_account_payments"

    def __init__(self, user):
        from django.test import Client
        from django.urls import NoReverseMatch, reverse

        try:
            reverse(self.URL_NAME, args=[1])
            self.mode = "admin"
        except NoReverseMatch:
            self.mode = "fallback"
        self.client = Client()
        self.client.force_login(user)
        self._reverse = reverse

    @property
    def description(self) -> str:
        if self.mode == "admin":
            return (
                f"admin view `{self.URL_NAME}` through `django.test.Client` "
                "(superuser, DEBUG off, full middleware, HTTPS request)"
            )
        return (
            f"FALLBACK — `{self.URL_NAME}` does not exist yet: "
            "`ledger.selectors.statement_page` + rendering a plain HTML table"
        )

    def url(self, account_id: int, before: int | None) -> str:
        url = self._reverse(self.URL_NAME, args=[account_id])
        return f"{url}?before={before}" if before is not None else url

    def fetch(self, account_id: int, before: int | None) -> str:
        if self.mode == "admin":
            response = self.client.get(self.url(account_id, before), secure=True)
            if response.status_code != 200:
                raise RuntimeError(
                    f"GET {self.url(account_id, before)} answered {response.status_code}"
                )
            return response.content.decode()
        return _fallback_render(account_id, before)


_TABLE = None


def _fallback_render(account_id: int, before: int | None) -> str:
    global _TABLE
    from django.template import Context, Template

    from ledger.models import Account
    from ledger.selectors import statement_page

    if _TABLE is None:
        _TABLE = Template(
            "<table>{% for e in page.rows %}<tr><td>{{ e.seq }}</td><td>{{ e.posted_at }}"
            "</td><td>{{ e.kind }}</td><td>{{ e.reference }}</td><td>{{ e.description }}"
            "</td><td>{{ e.debit }}</td><td>{{ e.credit }}</td><td>{{ e.balance_after }}"
            "</td></tr>{% endfor %}</table>"
        )
    account = Account.objects.get(pk=account_id)
    page = statement_page(account=account, before=before)
    return _TABLE.render(Context({"page": page}))


def measure_pages(probe: PageProbe, targets: list[tuple[int, int | None]]) -> list[dict]:
    """For each (account id, before) target: warm up, then the median of ``REQUESTS``
    requests, interleaved round-robin across the targets so that background load on the
    machine hits every target alike; the query count of one request; the page body."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        for account_id, before in targets:
            probe.fetch(account_id, before)
    samples = [[] for _ in targets]
    for _ in range(REQUESTS):
        for i, (account_id, before) in enumerate(targets):
            start = time.perf_counter()
            probe.fetch(account_id, before)
            samples[i].append(time.perf_counter() - start)
    results = []
    for i, (account_id, before) in enumerate(targets):
        with CaptureQueriesContext(connection) as ctx:
            body = probe.fetch(account_id, before)
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
            call_command("verify_ledger", account=[account_id], stdout=out, stderr=err)
            ok = True
        except CommandError as exc:
            ok = False
            err.write(str(exc))
    return ok, t.seconds, (out.getvalue() + err.getvalue()).strip()


def run(small_n: int = 1_000, big_n: int | None = None) -> dict:
    big_n = big_n or int(os.environ.get("BENCH_BIG_N") or 1_000_000)
    from django.contrib.auth import get_user_model

    from ledger.services.accounts import create_account
    from ledger.services.actors import system_actor

    actor = system_actor("bench")
    user = get_user_model().objects.create_superuser("bench-admin", "bench@example.com", None)
    small = create_account(
        name="Bench 1k", email="small@bench.example", currency="GBP", actor=actor
    )
    big = create_account(name="Bench 1M", email="big@bench.example", currency="GBP", actor=actor)
    result = {"small_n": small_n, "big_n": big_n, "pages": {}, "checks": []}

    result["load_small_s"] = load_entries(small, small_n)
    vacuum_analyze()
    probe = PageProbe(user)
    result["mode"] = probe.mode
    result["description"] = probe.description

    def measure(group):
        """group: [(label, account, n)]; both pages of each, interleaved."""
        targets, keys = [], []
        for label, account, n in group:
            for page, before in (("newest", None), ("deep", n // 2)):
                targets.append((account.pk, before))
                keys.append((label, page, account.pk, n, before))
        for (label, page, account_id, n, before), m in zip(
            keys, measure_pages(probe, targets), strict=True
        ):
            # The newest page shows entry n; the deep page entry before-1, not before.
            shown = n if before is None else before - 1
            ok = reference_of(account_id, shown) in m["body"]
            if before is not None:
                ok = ok and reference_of(account_id, before + 1) not in m["body"]
            result["checks"].append((f"{label} {page} page shows the right entries", ok))
            del m["body"]
            result["pages"][(label, page)] = m
            print(
                f"  {label:<18} {page:<6} {m['median_ms']:7.2f} ms median "
                f"(p95 {m['p95_ms']:.2f}), {m['queries']} queries",
                flush=True,
            )

    print(f"statement page: {probe.description}", flush=True)
    measure([("1k (small table)", small, small_n)])

    print(f"loading {big_n:,} entries ...", flush=True)
    result["load_big_s"] = load_entries(big, big_n)
    with Timer() as t:
        vacuum_analyze()
    result["vacuum_s"] = t.seconds
    print(f"  loaded in {result['load_big_s']:.1f} s (+{t.seconds:.1f} s vacuum)", flush=True)

    measure([("1k", small, small_n), ("1M", big, big_n)])

    result["verify_small"] = verify(small.pk)
    result["verify_big"] = verify(big.pk)
    result["account_ids"] = (small.pk, big.pk)
    return result
