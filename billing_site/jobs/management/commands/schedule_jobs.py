"""The periodic scheduler: enqueue each periodic job once per period slot
(``billing_site.jobs.periodic``); the job runner's workers (``manage.py db_worker``)
execute them. Run one or more beside the workers; ``--once`` for one pass (cron)."""

import time

from django.core.management.base import BaseCommand

from billing_site.jobs.periodic import PERIODIC, enqueue_due


class Command(BaseCommand):
    help = "Enqueue the periodic jobs at their intervals (idempotent per period slot)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument(
            "--tick", type=float, default=15.0, help="seconds between passes (default 15)"
        )

    def handle(self, *args, once=False, tick=15.0, verbosity=1, **options):
        if verbosity > 1 or not once:
            jobs = ", ".join(f"{j.name} every {j.every}" for j in PERIODIC)
            self.stdout.write(f"schedule_jobs: {jobs}")
        while True:
            for name in enqueue_due():
                if verbosity:
                    self.stdout.write(f"schedule_jobs: enqueued {name}")
            if once:
                return
            time.sleep(tick)
