"""Benchmark: the member statement's downloads — streamed CSV and PDF (issue 6).

    DATABASE_URL=postgres://... SECRET_KEY=bench .venv/bin/python bench/member_bench.py

Needs a migrated PostgreSQL (``bench/run.sh`` provides one). Prints a markdown section
and exits 1 if a target is missed.

- **CSV**: the member's CSV download of 1,000,000 entries vs 1,000 entries. Each export
  runs in a fresh worker process (``--worker csv``) that logs in as the member, makes a
  warm-up request, resets its peak-RSS mark (``/proc/self/clear_refs``), then requests
  the member CSV URL through ``django.test.Client`` (the full middleware and view, DEBUG
  off) and consumes the ``StreamingHttpResponse`` chunk by chunk, as a WSGI server
  would. The figure is the growth of the serving process's peak RSS over its RSS before
  the request; target: the 1M export grows by less than 50 MB more than the 1k export.
- **PDF**: the member PDF download of a 1,000-row period (WeasyPrint), in a fresh
  worker after a warm-up render: time and peak RSS growth (reported, no target).

Entries are loaded with ``bench.statement_bench.load_entries`` (one ``INSERT ...
SELECT FROM generate_series``, a consistent ledger checked by ``verify_ledger``).
"""

import io
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

from bench.common import Timer, loadavg, setup_django  # noqa: E402

CSV_TARGET_MB = 50.0
SMALL, LARGE, PDF_ROWS = 1_000, 1_000_000, 1_000


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
    if kind == "pdf":
        from weasyprint import HTML

        HTML(string="<p>warm-up</p>").write_pdf()  # fonts and Pango loaded once
    url_name = "member-statement-csv" if kind == "csv" else "member-statement-pdf"
    url = reverse(url_name, args=[account_id])

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


def main() -> int:
    setup_django()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from bench.statement_bench import vacuum_analyze

    load_start = loadavg()
    stamp = time.strftime("%Y%m%d%H%M%S")
    user = get_user_model().objects.create_user(username=f"bench-member-{stamp}", password=None)
    small, small_load = make_account(user, SMALL, "small")
    large, large_load = make_account(user, LARGE, "large")
    vacuum_analyze()
    with Timer() as verify:
        call_command("verify_ledger", account=[small.pk, large.pk], stdout=io.StringIO())

    csv_small = run_worker("csv", small.pk, user.pk)
    csv_large = run_worker("csv", large.pk, user.pk)
    pdf = run_worker("pdf", small.pk, user.pk)
    load_end = loadavg()

    rows_ok = csv_small["lines"] == SMALL + 2 and csv_large["lines"] == LARGE + 2
    extra_kb = csv_large["growth_kb"] - csv_small["growth_kb"]
    csv_ok = extra_kb < CSV_TARGET_MB * 1024 and csv_large["streaming"] and rows_ok
    pdf_ok = pdf["content_type"] == "application/pdf" and pdf["bytes"] > 0
    ok = csv_ok and pdf_ok

    def rate(r):
        return f"{(r['lines'] - 2) / r['seconds']:,.0f} rows/s"

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
    print(
        f"| CSV, {LARGE:,} entries: peak RSS growth over the {SMALL:,}-entry export "
        f"| {mb(extra_kb)} ({mb(csv_large['growth_kb'])} vs {mb(csv_small['growth_kb'])}) "
        f"| < {CSV_TARGET_MB:.0f} MB | {'PASS' if csv_ok else '**FAIL**'} |"
    )
    print(
        f"| CSV, {LARGE:,} entries: time | {csv_large['seconds']:.1f} s ({rate(csv_large)}, "
        f"{csv_large['bytes'] / 1e6:.0f} MB) | — | info |"
    )
    print(
        f"| CSV, {SMALL:,} entries: time | {csv_small['seconds'] * 1000:.0f} ms "
        f"({csv_small['bytes'] / 1e3:.0f} kB) | — | info |"
    )
    print(
        f"| CSV rows = entries + header + opening balance | "
        f"{csv_small['lines']:,} / {csv_large['lines']:,} | {SMALL + 2:,} / {LARGE + 2:,} "
        f"| {'PASS' if rows_ok else '**FAIL**'} |"
    )
    print(
        f"| PDF statement, {PDF_ROWS:,} rows: time | {pdf['seconds']:.2f} s "
        f"({pdf['bytes'] / 1e3:.0f} kB) | — | info |"
    )
    print(
        f"| PDF statement, {PDF_ROWS:,} rows: peak RSS growth | {mb(pdf['growth_kb'])} "
        f"(process peak {mb(pdf['peak_kb'])}) | — | {'info' if pdf_ok else '**FAIL**'} |"
    )
    print()
    print(
        f"Data: {SMALL:,} entries loaded in {small_load:.1f} s, {LARGE:,} in "
        f"{large_load:.1f} s (`INSERT ... SELECT`), `verify_ledger` consistent in "
        f"{verify.seconds:.1f} s. Serving process RSS before the request: "
        f"{mb(csv_small['rss_before_kb'])} (1k), {mb(csv_large['rss_before_kb'])} (1M). "
        f"Load average (1/5/15 min): start {load_start}; end {load_end} "
        f"on {os.cpu_count()} CPUs."
    )
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
        sys.exit(0)
    sys.exit(main())
