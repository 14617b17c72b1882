"""``manage.py close_period``: the period-close billing run in the terminal, with a
progress bar (``payments.services.billing_runs``; README "Billing run")."""

import multiprocessing
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils.dateparse import parse_date

from ledger.errors import BillingError
from ledger.money import format_money
from ledger.services import system_actor
from payments.selectors.billing_runs import RunCounts, run_amounts, run_counts
from payments.services import billing_runs as runs

POLL_SECONDS = 0.5


def _work(run_id: int, batch: int) -> None:  # a worker process (forked)
    runs.work_run(run_id, batch=batch)
    connections.close_all()


class Progress:
    """``[#######.............]  3,500/10,000 issued 3,490 failed 10  412/s``: redrawn
    in place on a terminal, a line per tenth of the run elsewhere (logs, CI)."""

    WIDTH = 30

    def __init__(self, stream, total: int):
        self.stream, self.total, self.started = stream, max(total, 0), time.monotonic()
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.shown_tenth = -1

    def show(self, counts: RunCounts, *, final: bool = False) -> None:
        total = counts.total or 1
        filled = round(self.WIDTH * counts.done / total)
        rate = counts.done / max(time.monotonic() - self.started, 1e-6)
        line = (
            f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {counts.done:,}/{counts.total:,}"
            f"  issued {counts.issued:,}  failed {counts.failed:,}  skipped {counts.skipped:,}"
            f"  {rate:,.0f}/s"
        )
        if self.tty:
            self.stream.write("\r" + line + ("\n" if final else ""))
            self.stream.flush()
            return
        tenth = counts.done * 10 // total
        if tenth > self.shown_tenth or (final and tenth < 10):
            self.shown_tenth = tenth
            self.stream.write(line + "\n")


class Command(BaseCommand):
    help = (
        "Issue every ongoing invoice whose billing period ended on or before --through "
        "(default: yesterday): holds captured, credit applied, the waiting payment "
        "opened, a direct debit started under the account's mandate. Resumes the run "
        "that is running, if any (after a crash, run it again). Several can run at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--through", help="YYYY-MM-DD: the last period day to close.")
        parser.add_argument("--workers", type=int, default=1, help="Worker processes (1).")
        parser.add_argument("--batch", type=int, default=runs.DEFAULT_BATCH)
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **options):
        through = None
        if options["through"]:
            through = parse_date(options["through"])
            if through is None:
                raise CommandError(f"--through: '{options['through']}' is not YYYY-MM-DD.")
        workers, batch = options["workers"], options["batch"]
        if not 1 <= workers <= 16 or not 1 <= batch <= 1000:
            raise CommandError("--workers is 1 to 16 and --batch 1 to 1000.")
        try:
            run = runs.start_run(through=through, actor=system_actor("close_period"))
        except BillingError as exc:
            raise CommandError(exc.detail) from None
        counts = run_counts(run)
        self.stdout.write(f"{run}: {counts.total:,} invoice(s), {counts.pending:,} to issue.")
        progress = None if options["no_progress"] else Progress(sys.stderr, counts.total)
        if workers == 1:
            runs.work_run(run, batch=batch, on_batch=lambda _n: self._tick(run, progress))
        else:
            self._fork(run.pk, workers, batch, progress)
        runs.finish_if_done(run)
        if progress is not None:
            progress.show(run_counts(run), final=True)
        self._summary(run)

    def _tick(self, run, progress):
        if progress is not None:
            progress.show(run_counts(run))

    def _fork(self, run_id: int, workers: int, batch: int, progress) -> None:
        connections.close_all()  # each process opens its own connection
        context = multiprocessing.get_context("fork")
        procs = [context.Process(target=_work, args=(run_id, batch)) for _ in range(workers)]
        for proc in procs:
            proc.start()
        while any(proc.is_alive() for proc in procs):
            time.sleep(POLL_SECONDS)
            self._tick(run_id, progress)
        failed = [proc.exitcode for proc in procs if proc.exitcode]
        if failed:
            raise CommandError(
                f"{len(failed)} worker(s) stopped with an error; run close_period again to "
                "resume (nothing is issued twice)."
            )

    def _summary(self, run) -> None:
        run.refresh_from_db()
        counts = run_counts(run)
        self.stdout.write(
            f"{run}: {run.get_status_display().lower()} — issued {counts.issued:,}, "
            f"failed {counts.failed:,}, skipped {counts.skipped:,}, pending {counts.pending:,}."
        )
        for row in run_amounts(run):
            self.stdout.write(
                f"  {row['currency']}: {row['invoices']:,} invoice(s), total "
                f"{format_money(row['total'])}, holds captured "
                f"{format_money(row['captured'])}, credit applied "
                f"{format_money(row['credit_applied'])}, waiting "
                f"{format_money(row['waiting'])}, direct debits {row['direct_debits']:,}."
            )
        if counts.failed:
            self.stdout.write("  Failures are listed on the run's admin page, with reasons.")
