"""Benchmark: the member statement's downloads — streamed CSV and PDF (issues 6, 16).

    DATABASE_URL=postgres://... SECRET_KEY=bench .venv/bin/python bench/member_bench.py

Needs a migrated PostgreSQL (``bench/run.sh`` provides one). Prints a markdown section
and exits 1 if a target is missed.

- **CSV**: the member's CSV download of 1,000,000 entries vs 1,000 entries (on
  PostgreSQL: ``COPY ... TO STDOUT WITH CSV``, ``ledger.csv_copy``). Each export runs in
  a fresh worker process (``--worker csv``) that logs in as the member, makes a warm-up
  request, resets its peak-RSS mark (``/proc/self/clear_refs``), then requests the
  member CSV URL through ``django.test.Client`` (the full middleware and view, DEBUG
  off) and consumes the ``StreamingHttpResponse`` chunk by chunk, as a WSGI server
  would. Targets: at least 200,000 rows/s for the 1M export, and its peak RSS growth
  less than 50 MB more than the 1k export's.
- **PDF**: the member PDF download (ReportLab, ``billing_site/documents/statements.py``)
  of 1,000 and 10,000 rows (the most a PDF statement holds), each in a fresh worker
  after a warm-up PDF of an empty period: at most 0.5 s for 1,000 rows, 3 s and 100 MB
  of peak RSS growth for 10,000.

Entries are loaded with ``bench.statement_bench.load_entries`` (one ``INSERT ...
SELECT FROM generate_series``, a consistent ledger checked by ``verify_ledger``).
"""

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.common import loadavg, setup_django  # noqa: E402

CSV_TARGET_MB = 50.0
CSV_ROWS_PER_S = 200_000
PDF_SMALL_S, PDF_BIG_S, PDF_BIG_MB = 0.5, 3.0, 100.0
SMALL, LARGE, PDF_BIG = 1_000, 1_000_000, 10_000


# --- worker: one export in a process of its own ---------------------------------------


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset VmHWM (peak RSS) to the current RSS (Linux >= 4.0); False if refused."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_kb() -> int:
    return _status_kb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def worker(kind: str, account_id: int, user_id: int) -> dict:
    setup_django()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(get_user_model().objects.get(pk=user_id))
    # Warm-up: imports, URL resolver, templates, session, the connection.
    page = client.get(reverse("member-statement", args=[account_id]), secure=True)
    assert page.status_code == 200, page.status_code
    url_name = "member-statement-csv" if kind == "csv" else "member-statement-pdf"
    url = reverse(url_name, args=[account_id])
    if kind == "pdf":  # fonts and the renderer loaded once: a PDF of an empty period
        warm = client.get(url, {"from": "2999-01-01"}, secure=True)
        assert warm.status_code == 200, warm.status_code

    rss_before = _status_kb("VmRSS") or 0
    reset = _reset_peak()
    peak_before = _peak_kb()
    start = time.perf_counter()
    response = client.get(url, secure=True)
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}")
    size = lines = 0
    if response.streaming:
        for chunk in response.streaming_content:
            size += len(chunk)
            lines += chunk.count(b"\n")
    else:
        size = len(response.content)
    seconds = time.perf_counter() - start
    peak_after = _peak_kb()
    base = rss_before if reset else peak_before
    return {
        "kind": kind,
        "url": url,
        "seconds": seconds,
        "bytes": size,
        "lines": lines,
        "rss_before_kb": rss_before,
        "peak_kb": peak_after,
        "growth_kb": max(0, peak_after - base),
        "peak_reset": reset,
        "content_type": response["Content-Type"],
        "streaming": response.streaming,
    }


def run_worker(kind: str, account_id: int, user_id: int) -> dict:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", kind, str(account_id)]
        + [str(user_id)],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"worker {kind} {account_id} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- parent: data, workers, report ------------------------------------------------------


def make_account(user, n: int, tag: str):
    from bench.statement_bench import load_entries
    from ledger import services

    account = services.create_account(
        name=f"Member bench {tag} {n} ({time.strftime('%Y%m%d%H%M%S')})",
        email="bench@members.example",
        currency="GBP",
        actor=services.system_actor("bench"),
        members=[user],
    )
    seconds = load_entries(account, n)
    return account, seconds


def mb(kb: float) -> str:
    return f"{kb / 1024:.1f} MB"


def _figures(csv_small, csv_large, pdf_small, pdf_big) -> tuple[list[tuple], bool]:
    rows_ok = csv_small["lines"] == SMALL + 2 and csv_large["lines"] == LARGE + 2
    extra_kb = csv_large["growth_kb"] - csv_small["growth_kb"]
    rate = (csv_large["lines"] - 2) / csv_large["seconds"]
    pdfs_ok = all(p["content_type"] == "application/pdf" and p["bytes"] > 0
                  for p in (pdf_small, pdf_big))  # fmt: skip
    rows = [
        (
            f"CSV, {LARGE:,} entries: rows/s",
            f"{rate:,.0f} rows/s ({csv_large['seconds']:.2f} s, {csv_large['bytes'] / 1e6:.0f} MB)",
            f"≥ {CSV_ROWS_PER_S:,}",
            rate >= CSV_ROWS_PER_S,
        ),
        (
            f"CSV, {LARGE:,} entries: peak RSS growth over the {SMALL:,}-entry export",
            f"{mb(extra_kb)} ({mb(csv_large['growth_kb'])} vs {mb(csv_small['growth_kb'])})",
            f"< {CSV_TARGET_MB:.0f} MB",
            extra_kb < CSV_TARGET_MB * 1024 and csv_large["streaming"],
        ),
        (
            f"CSV, {SMALL:,} entries: time",
            f"{csv_small['seconds'] * 1000:.0f} ms ({csv_small['bytes'] / 1e3:.0f} kB)",
            "—",
            None,
        ),
        (
            "CSV rows = entries + header + opening balance",
            f"{csv_small['lines']:,} / {csv_large['lines']:,}",
            f"{SMALL + 2:,} / {LARGE + 2:,}",
            rows_ok,
        ),
        (
            f"PDF statement, {SMALL:,} rows: time",
            f"{pdf_small['seconds']:.2f} s ({pdf_small['bytes'] / 1e3:.0f} kB, peak RSS growth "
            f"{mb(pdf_small['growth_kb'])})",
            f"≤ {PDF_SMALL_S} s",
            pdf_small["seconds"] <= PDF_SMALL_S and pdfs_ok,
        ),
        (
            f"PDF statement, {PDF_BIG:,} rows: time",
            f"{pdf_big['seconds']:.2f} s ({pdf_big['bytes'] / 1e3:.0f} kB)",
            f"≤ {PDF_BIG_S:g} s",
            pdf_big["seconds"] <= PDF_BIG_S and pdfs_ok,
        ),
        (
            f"PDF statement, {PDF_BIG:,} rows: peak RSS growth",
            f"{mb(pdf_big['growth_kb'])} (process peak {mb(pdf_big['peak_kb'])})",
            f"≤ {PDF_BIG_MB:g} MB",
            pdf_big["growth_kb"] <= PDF_BIG_MB * 1024,
        ),
    ]
    return rows, all(ok for *_rest, ok in rows if ok is not None)


def main() -> int:
    setup_django()
    from django.contrib.auth import get_user_model

    from bench.statement_bench import vacuum_analyze, verify

    load_start = loadavg()
    stamp = time.strftime("%Y%m%d%H%M%S")
    user = get_user_model().objects.create_user(username=f"bench-member-{stamp}", password=None)
    small, small_load = make_account(user, SMALL, "small")
    pdf_account, _ = make_account(user, PDF_BIG, "pdf")
    large, large_load = make_account(user, LARGE, "large")
    vacuum_analyze()
    verified = verify(large.pk)

    csv_small = run_worker("csv", small.pk, user.pk)
    csv_large = run_worker("csv", large.pk, user.pk)
    pdf_small = run_worker("pdf", small.pk, user.pk)
    pdf_big = run_worker("pdf", pdf_account.pk, user.pk)
    load_end = loadavg()
    rows, ok = _figures(csv_small, csv_large, pdf_small, pdf_big)
    rows.append(
        (
            f"verify_ledger --require-chain, {LARGE:,}-entry account",
            f"{'consistent' if verified[0] else 'MISMATCH'} in {verified[1]:.1f} s",
            "passes",
            verified[0],
        )
    )
    ok = ok and verified[0]

    print("## Member statement downloads (CSV streamed, PDF)")
    print()
    print(
        f"Overall: **{'PASS' if ok else 'FAIL'}**. Member URLs `member-statement-csv` / "
        "`member-statement-pdf` through `django.test.Client` (member login, DEBUG off, "
        "full middleware), each export in a fresh process after a warm-up request; memory "
        "is the serving process's peak RSS growth during the request (VmHWM reset before "
        "it" + ("" if csv_large["peak_reset"] else " — NOT available here: ru_maxrss") + ")."
    )
    print()
    print("| figure | measured | target | result |")
    print("|---|---|---|---|")
    for name, measured, target, passed in rows:
        result = "info" if passed is None else ("PASS" if passed else "**FAIL**")
        print(f"| {name} | {measured} | {target} | {result} |")
    print()
    print(
        f"Data: {SMALL:,}, {PDF_BIG:,} and {LARGE:,} entries loaded with one hash-chained "
        f"`INSERT ... SELECT` each ({small_load:.1f} s, {large_load:.1f} s for the 1M). "
        f"Serving process RSS before the request: {mb(csv_small['rss_before_kb'])} (1k CSV), "
        f"{mb(csv_large['rss_before_kb'])} (1M CSV), {mb(pdf_big['rss_before_kb'])} (10k PDF). "
        f"Load average (1/5/15 min): start {load_start}; end {load_end} on {os.cpu_count()} CPUs."
    )
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
        sys.exit(0)
    sys.exit(main())
