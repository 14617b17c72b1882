from django.core.management.base import BaseCommand, CommandError

from ledger.verification import unchained, verify_all


class Command(BaseCommand):
    help = (
        "Recompute every account's balance, running balances and hash chain from its ledger "
        "entries; exit non-zero, naming each account (and the first broken entry of a "
        "chain), on any mismatch."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int, action="append", help="only these account ids")
        parser.add_argument(
            "--require-chain",
            action="store_true",
            help="also fail accounts whose entries carry no hash chain at all (entries "
            "written straight into the table, never through the posting service)",
        )

    def handle(self, *args, **options):
        checked = bad = without_chain = 0
        require = options["require_chain"]
        for account, problems in verify_all(options.get("account"), require_chain=require):
            checked += 1
            if problems:
                bad += 1
                for problem in problems:
                    self.stderr.write(f"account {account.pk} ({account.name}): {problem}")
            elif unchained(account):
                without_chain += 1
        if bad:
            raise CommandError(f"{bad} of {checked} accounts do not match their ledger.")
        if options["verbosity"] >= 1:
            note = ""
            if without_chain:
                note = (
                    f" ({without_chain} without a hash chain: entries written outside the "
                    "posting service; --require-chain fails them)"
                )
            self.stdout.write(
                self.style.SUCCESS(f"verify_ledger: {checked} accounts consistent.{note}")
            )
