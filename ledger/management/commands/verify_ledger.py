from django.core.management.base import BaseCommand, CommandError

from ledger.verification import verify_all


class Command(BaseCommand):
    help = (
        "Recompute every account's balance and running balances from its ledger entries; "
        "exit non-zero, naming each account, on any mismatch."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int, action="append", help="only these account ids")

    def handle(self, *args, **options):
        checked = bad = 0
        for account, problems in verify_all(options.get("account")):
            checked += 1
            if problems:
                bad += 1
                for problem in problems:
                    self.stderr.write(f"account {account.pk} ({account.name}): {problem}")
        if bad:
            raise CommandError(f"{bad} of {checked} accounts do not match their ledger.")
        if options["verbosity"] >= 1:
            self.stdout.write(self.style.SUCCESS(f"verify_ledger: {checked} accounts consistent."))
