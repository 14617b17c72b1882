"""``make bench``: ledger benchmarks; writes ``bench/RESULTS.md`` and prints it.

Run through ``bench/run.sh`` (throw-away durable PostgreSQL, migrated). Every figure is
measured in this run; the targets are the only constants. Exit status 1 when a target
is missed or a ledger fails verification (the report is written either way).
"""

import sys
from datetime import UTC, datetime
from pathlib import Path

from .common import loadavg, machine_facts, setup_django, software_and_server

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

STATEMENT_RATIO_MAX = 1.2  # page time at 10M entries / at 1k entries
POSTING_RATIO_MIN = 0.75  # service postings/s / raw-SQL postings/s (chain on)
CHAIN_COST_MAX = 0.10  # 1 - chain-on rate / chain-off rate

HOW_TO_RUN = """\
## How to run

```
make bench            # = bench/run.sh; about 8 minutes on 2 idle cores, 13-15 when busy
```

`bench/run.sh` starts its own throw-away PostgreSQL 15 on port 55435 (`BENCH_PG_PORT`)
with **durable commits** (`BILLFOLD_PG_DURABLE=1`: `fsync=on`, `synchronous_commit=on`,
`full_page_writes=on`), migrates it, collects the static files (DEBUG is off, as in
production), runs `python -m bench.ledger_bench` (statement pages, posting; rewrites
this file), then `bench/wallet_bench.py`, `bench/api_bench.py` and
`bench/member_bench.py`, each appending its section, and deletes the cluster on exit.
Knobs: `BENCH_BIG_N` (default 10,000,000 entries), `BENCH_POST_SECONDS` (default 5) and
`BENCH_POST_ROUNDS` (default 3), `BENCH_WALLET_SECONDS` (default 8), `BENCH_VERIFY_BIG=1`
(also verify the 10M account, minutes). Exit status 1 if a target is missed or
`verify_ledger` fails. Every figure below is measured by the run that wrote this file;
the machine is shared, so every target compares two figures **measured in the same run**,
interleaved; targets live only here, never in unit tests.
"""


def verdict(ok: bool) -> str:
    return "PASS" if ok else "**FAIL**"


def statement_summary(st: dict) -> list[tuple]:
    rows = []
    for face in st["faces"]:
        for page in ("newest", "deep"):
            big = st["pages"][(face, "10M", page)]["median_ms"]
            small = st["pages"][(face, "1k", page)]["median_ms"]
            ratio = big / small
            rows.append(
                (
                    f"Statement page, {face}, {page}: {st['big_n']:,} / {st['small_n']:,} entries",
                    f"{ratio:.2f}× ({big:.1f} / {small:.1f} ms)",
                    f"≤ {STATEMENT_RATIO_MAX}×",
                    ratio <= STATEMENT_RATIO_MAX,
                )
            )
    ok, secs, _msg = st["verify_small"]
    rows.append(("verify_ledger, 1k account (chain required)", f"{secs:.2f} s", "passes", ok))
    if st["verify_big"] is not None:
        ok, secs, _msg = st["verify_big"]
        rows.append(("verify_ledger, big account (chain required)", f"{secs:.1f} s", "passes", ok))
    checks = [ok for _, ok in st["checks"]]
    rows.append(
        ("Statement pages show the expected entries", f"{sum(checks)}/{len(checks)}", "all",
         all(checks))
    )  # fmt: skip
    return rows


def chain_cost(po: dict) -> tuple[float, float, float]:
    """(cost, µs chain on, µs chain off) per posting, from the alternating calls."""
    costs = po["profile"]["costs"]
    on, off = costs["service"]["wall_us"], costs[po["unchained"]]["wall_us"]
    return 1 - off / on, on, off


def posting_summary(po: dict) -> list[tuple]:
    rows = []
    for label in po["labels"]:
        fig = po["figures"][(label, "service")]
        raw = po["figures"][(label, "raw")]
        rows.append(
            (
                f"Posting, {label}: service / raw SQL (chain on in both; median of "
                f"{po['rounds']} paired rounds)",
                f"{fig['vs_raw']:.2f}× ({fig['rate']:.0f} / {raw['rate']:.0f} postings/s)",
                f"≥ {POSTING_RATIO_MIN}×",
                fig["vs_raw"] >= POSTING_RATIO_MIN,
            )
        )
    for label in po["labels"]:
        paired = po["figures"][(label, "service")]["vs_unchained"]
        rows.append(
            (
                f"(info) Hash chain cost, {label}: 1 − chain on / off (median of paired rounds)",
                f"{1 - paired:+.1%}",
                "—",
                None,
            )
        )
    cost, on, off = chain_cost(po)
    rows.append(
        (
            "Hash chain cost per posting (calls alternating in one process, order rotating)",
            f"{cost:+.1%} ({on:.0f} µs chain on / {off:.0f} µs chain off)",
            f"≤ {CHAIN_COST_MAX:.0%}",
            cost <= CHAIN_COST_MAX,
        )
    )
    costs = po["profile"]["costs"]
    alt = costs["raw"]["wall_us"] / costs["service"]["wall_us"]
    rows.append(
        (
            "(info) Posting, 1 worker, calls alternating in one process: service / raw",
            f"{alt:.2f}× ({costs['service']['wall_us']:.0f} / {costs['raw']['wall_us']:.0f} µs "
            "per posting)",
            "—",
            None,
        )
    )
    for ids, ok, _msg in po["verified"]:
        rows.append((f"verify_ledger after posting ({len(ids)} accounts)", "", "passes", ok))
    return rows


def environment(env: dict) -> list[str]:
    lines = ["", "## Environment", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in env["machine"].items()]
    lines += [f"| {k} | {v} |" for k, v in env["versions"].items()]
    lines += [
        "",
        "PostgreSQL server settings (read with `SHOW` during the run; the cluster is the "
        "throw-away one of `scripts/pg.sh`, started with `BILLFOLD_PG_DURABLE=1`, so every "
        "COMMIT waits for its WAL flush to disk):",
        "",
        "| setting | value |",
        "|---|---|",
    ]
    return lines + [f"| `{k}` | {v} |" for k, v in env["server"].items()]


def statement_details(st: dict) -> list[str]:
    lines = [
        "",
        f"## 1. Statement pages at {st['small_n']:,} vs {st['big_n']:,} entries",
        "",
        "Three faces, each through `django.test.Client` (DEBUG off, full middleware, "
        "static files from `collectstatic`): "
        + "; ".join(f"*{face}*: {text}" for face, text in st["faces"].items())
        + ". Page of 50 rows; *newest* = no cursor, *deep* = `?before=N//2` (seq "
        f"{st['small_n'] // 2:,} and {st['big_n'] // 2:,}). 10 warm-up requests, then the "
        "median (and p95) of the requests of every target interleaved round-robin (so load "
        "from other processes hits all alike); queries counted on one request.",
        "",
        "| face | account | page | median ms | p95 ms | SQL queries |",
        "|---|---|---|--:|--:|--:|",
    ]
    for (face, label, page), m in st["pages"].items():
        lines.append(
            f"| {face} | {label} | {page} | {m['median_ms']:.2f} | {m['p95_ms']:.2f} "
            f"| {m['queries']} |"
        )
    lines += [
        "",
        "*1k (small table)* is the 1k account measured before the big account was loaded "
        "(the entries table then holds 1,000 rows, for information); *1k* and *10M* are "
        f"measured afterwards on the same {st['big_n'] + st['small_n']:,}-row table, "
        "interleaved: the targets are judged on these.",
        "",
        f"Loading (set-based, `INSERT ... SELECT FROM generate_series`, hash-chained by a "
        f"running aggregate in the same statement — see `bench/statement_bench.py`): 1k "
        f"entries in {st['load_small_s']:.2f} s; {st['big_n']:,} in {st['load_big_s']:.0f} s, "
        f"then `VACUUM (ANALYZE)` + `CHECKPOINT` in {st['vacuum_s']:.0f} s.",
        "",
        f"`verify_ledger --require-chain --account {st['account_ids'][0]}` (1k): "
        f"{'passed' if st['verify_small'][0] else 'FAILED'} in {st['verify_small'][1]:.2f} s."
        + (
            " The big account is not verified by default (minutes; `BENCH_VERIFY_BIG=1`); the "
            "1M account of the member benchmark below is."
            if st["verify_big"] is None
            else f" Big account: {'passed' if st['verify_big'][0] else 'FAILED'} in "
            f"{st['verify_big'][1]:.0f} s."
        ),
    ]
    bad = [name for name, ok in st["checks"] if not ok]
    if bad:
        lines += ["", "Content checks that failed: " + "; ".join(bad)]
    return lines


def posting_table(po: dict) -> list[str]:
    impls = ("raw", "service", po["unchained"])
    lines = [
        "| configuration | "
        + " | ".join(f"{i} /s (best)" for i in impls)
        + " | service / raw | chain on / off | "
        + " | ".join(f"{i} p50 / p99 ms" for i in impls)
        + " |",
        "|---|" + "--:|" * (len(impls) + 2) + "---|" * len(impls),
    ]
    for label in po["labels"]:
        fig = {impl: po["figures"][(label, impl)] for impl in impls}
        rates = " | ".join(f"{fig[i]['rate']:.0f} ({fig[i]['best']:.0f})" for i in impls)
        lat = " | ".join(f"{fig[i]['p50_ms']:.2f} / {fig[i]['p99_ms']:.2f}" for i in impls)
        lines.append(
            f"| {label} | {rates} | {fig['service']['vs_raw']:.2f}× | "
            f"{fig['service']['vs_unchained']:.2f}× | {lat} |"
        )
    per_round = "; ".join(
        f"{label} {impl} " + ", ".join(f"{r:.0f}" for r in po["figures"][(label, impl)]["rates"])
        for label in po["labels"]
        for impl in impls
    )
    return lines + [
        "",
        "Rates: the median of the rounds (the best in brackets); ratios: the median of the "
        "rounds' own ratios (each round runs the implementations back to back).",
        "",
        f"Per-round rates: {per_round}.",
    ]


def posting_details(po: dict) -> list[str]:
    lines = [
        "",
        "## 2. Posting throughput on PostgreSQL, and what the hash chain costs",
        "",
        "One `PAYM` credit per call, outside any transaction. *service*: "
        "`ledger.services.posting.post(...)` — on PostgreSQL one statement "
        "(`ledger/services/posting_sql.py`) that locks the account, numbers, balances and "
        "hash-chains the entry (`sha256()`), inserts it and moves the account; a prepared "
        "statement (`ledger/prepared.py`). *service, chain off*: the same statement built without "
        "the chain (no sha256, empty digests), for this comparison only. *raw*: psycopg "
        "directly — `BEGIN; SELECT ... FOR UPDATE; INSERT entry; UPDATE account; COMMIT` "
        "with seq, balance and digest computed in Python, its statements prepared by "
        "psycopg too. Each worker is a separate process with its own connection; workers "
        f"warm up, meet at a barrier and post for {po['duration']:g} s; {po['rounds']} rounds, "
        "the implementations of a configuration back to back in a rotating order; latency: "
        "median over rounds.",
        "",
        *posting_table(po),
        "",
        f"SQL sent by one service posting ({len(po['queries'])} statement(s); the baseline "
        "sends BEGIN, 3 statements and COMMIT):",
        "",
        "```",
        *(q.replace("\n", " ") for q in po["queries"]),
        "```",
    ]
    return lines + profile_details(po["profile"], po["unchained"])


def profile_details(prof: dict, unchained: str) -> list[str]:
    impls = ("raw", "service", unchained)
    c = prof["costs"]
    lines = [
        "",
        "### Where a posting's time goes",
        "",
        f"One process, {prof['postings']} postings of each implementation, one call of each "
        "in turn, no profiler. Each SQL call timed from the client (binding, round trip, "
        "server work, and in autocommit the commit); the rest is Python.",
        "",
        "| phase | " + " | ".join(f"{i} µs" for i in impls) + " |",
        "|---|" + "--:|" * len(impls),
    ]
    lines += [
        f"| {label} | " + " | ".join(f"{v:.0f}" for v in values) + " |"
        for label, *values in prof["phases"]
    ]
    lines += [
        "| **total wall** (median) / client CPU | "
        + " | ".join(
            f"**{c[i]['wall_us']:.0f}** ({c[i]['median_us']:.0f}) / {c[i]['cpu_us']:.0f}"
            for i in impls
        )
        + " |",
        "",
        "cProfile of the service, top functions by own time (µs per posting, profiler "
        "overhead included):",
        "",
        "| function | calls | own µs | cumulative µs |",
        "|---|--:|--:|--:|",
    ]
    return lines + [
        f"| `{name}` | {ncalls:g} | {own:.1f} | {cum:.1f} |"
        for name, ncalls, own, cum in prof["top"]
    ]


def render(env: dict, st: dict, po: dict) -> tuple[str, bool]:
    summary = statement_summary(st) + posting_summary(po)
    all_ok = all(row[3] for row in summary if row[3] is not None)
    lines = [
        "# Billfold benchmark results",
        "",
        HOW_TO_RUN,
        f"Run {env['date']} — ledger benchmarks: **{'PASS' if all_ok else 'FAIL'}** "
        "(the wallet, API and member sections below carry their own verdicts)",
        "",
        "## Summary",
        "",
        "| figure | measured | target | result |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {a} | {b} | {c} | {'info' if d is None else verdict(d)} |" for a, b, c, d in summary
    ]
    if float(env["load_at_start"]) > float(env["machine"]["nproc"]):
        lines += [
            "",
            f"> **Note**: the machine was busy (1-minute load {env['load_at_start']} at start "
            f"on {env['machine']['nproc']} CPUs; see Environment). Absolute figures are "
            "disturbed by other processes; the ratios compare figures measured together.",
        ]
    lines += environment(env) + statement_details(st) + posting_details(po)
    for ids, ok, msg in po["verified"]:
        lines += [
            "",
            f"`verify_ledger --require-chain` on the {len(ids)} chained posting accounts "
            f"after the runs: {'passed' if ok else 'FAILED'} — "
            f"{msg.splitlines()[-1] if msg else ''}",
        ]
    return "\n".join(lines) + "\n", all_ok


def main() -> int:
    setup_django()
    from . import posting_bench, statement_bench

    versions, server = software_and_server()
    env = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_facts(),
        "versions": versions,
        "server": server,
    }
    load = [f"start {loadavg()}"]
    env["load_at_start"] = loadavg().split()[0]
    st = statement_bench.run()
    load.append(f"after statement pages {loadavg()}")
    po = posting_bench.run()
    load.append(f"after posting {loadavg()}")
    env["machine"]["load average (1/5/15 min)"] = "; ".join(load)
    po["labels"] = [label for label, _, _ in posting_bench.CONFIGS]
    po["unchained"] = posting_bench.UNCHAINED
    text, ok = render(env, st, po)
    RESULTS.write_text(text)
    print()
    print(text)
    print(f"bench: wrote {RESULTS} — overall {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
