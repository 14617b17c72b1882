"""Demo data for `make run`: users in each role, accounts in two currencies, a year of
invoices and payments in every status — all posted through the services, back-dated
with ``at=`` in time order, never by writing rows directly. Idempotent: does nothing
if the demo staff user exists."""

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from ledger import services as ledger
from ledger.models import Invoice
from ledger.services import LineSpec
from payments import services as payments
from payments.models import Payment, PaymentStatus
from payments.roles import AUDITOR, BILLING_ADMIN, BILLING_CLERK, ensure_roles
from payments.services import dunning
from wallets import services as wallets

PASSWORD = "billfold-demo"
USERS = [
    # username, role group, is_staff
    ("demo-staff", BILLING_ADMIN, True),
    ("demo-clerk", BILLING_CLERK, True),
    ("demo-auditor", AUDITOR, True),
    ("demo-member", None, False),
]
ACCOUNTS = [
    # name, currency, monthly lines, erp_managed, group
    (
        "Acme Studio Ltd",
        "GBP",
        [("Hot desk membership", 1, "250.00"), ("Meeting room hours", 6, "18.50")],
        False,
        None,
    ),
    ("Brightside Coop", "GBP", [("Dedicated desk", 2, "320.00")], False, "Northwind Group"),
    (
        "Northwind Traders",
        "GBP",
        [("Private office", 1, "1450.00"), ("Printing", 120, "0.08")],
        True,
        "Northwind Group",
    ),
    ("Café Lumière SARL", "EUR", [("Coworking pass", 3, "190.00")], False, None),
    (
        "Kleinert & Söhne GmbH",
        "EUR",
        [("Virtual office", 1, "89.00"), ("Mail handling", 1, "25.00")],
        False,
        None,
    ),
    ("Hannah Okafor", "GBP", [("Flex membership", 1, "129.00")], False, None),
]

REMINDER_LEVELS = (
    ("Friendly note", -3, "Invoice {invoice_number} is due on {due_date}"),
    ("First reminder", 7, "Reminder: invoice {invoice_number} is {days_overdue} days overdue"),
    ("Final notice", 30, "Final notice: invoice {invoice_number}, {amount_due} overdue"),
)
REMINDER_BODY = (
    "Hello {member_name},\n\nInvoice {invoice_number} for {amount_due} was due on "
    "{due_date}.\n\nYou can pay it by card here: {pay_link}\n\nIf you have paid already, "
    "thank you, and please ignore this email.\n"
)


class Command(BaseCommand):
    help = "Load demo users, accounts and a year of invoices and payments (idempotent)."

    def handle(self, *args, **options):
        if get_user_model().objects.filter(username="demo-staff").exists():
            self.stdout.write("seed_demo: demo data already present; nothing to do.")
            return
        locmem = "django.core.mail.backends.locmem.EmailBackend"
        with override_settings(EMAIL_BACKEND=locmem), transaction.atomic():
            self.seed()
        self.stdout.write(
            self.style.SUCCESS(
                "seed_demo: done. Staff: demo-staff / billfold-demo (also demo-clerk, "
                "demo-auditor); member: demo-member / billfold-demo."
            )
        )

    def seed(self):
        rng = random.Random(20261122)
        ensure_roles()
        users = {}
        for username, role, is_staff in USERS:
            user = get_user_model().objects.create_user(
                username=username,
                password=PASSWORD,
                email=f"{username}@billfold.example",
                is_staff=is_staff,
                first_name=username.split("-")[1].title(),
            )
            if role:
                user.groups.add(Group.objects.get(name=role))
            users[username] = user
        actor = ledger.user_actor(users["demo-staff"])

        groups = {}
        accounts = []
        for name, currency, lines, erp, group_name in ACCOUNTS:
            group = None
            if group_name:
                group = groups.get(group_name) or ledger.create_group(name=group_name, actor=actor)
                groups[group_name] = group
            slug = name.split()[0].lower().strip("&é")
            account = ledger.create_account(
                name=name,
                email=f"billing@{slug}.example",
                currency=currency,
                actor=actor,
                external_ref=f"CRM-{1000 + len(accounts)}",
                group=group,
                erp_managed=erp,
                members=[users["demo-member"]] if not accounts else [],
            )
            accounts.append((account, lines))
        northwind = groups["Northwind Group"]
        northwind.admin_account = accounts[2][0]
        northwind.save(update_fields=["admin_account"])

        now = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0)
        start = (now - timedelta(days=365)).replace(day=1)
        for index, (account, lines) in enumerate(accounts):
            self.seed_account(account, lines, index, start, now, rng, actor)

        self.seed_current_month(accounts, now, actor)
        payments.record_group_payment(
            group=northwind,
            amount="500.00",
            method="bank_transfer",
            actor=actor,
            leftover_account=accounts[1][0],
            reference="NW-BATCH-NOV",
            at=now - timedelta(hours=2),
        )
        self.seed_wallets(accounts, now, actor)
        self.seed_ended_period(accounts, now, actor)
        payments.expire_due_payments(today=timezone.localdate(now))
        self.seed_reminder_levels(actor)

    def seed_reminder_levels(self, actor):
        for name, days, subject in REMINDER_LEVELS:  # the hourly reminder run sends them
            dunning.save_level(
                name=name, offset_days=days, subject=subject, body=REMINDER_BODY, actor=actor
            )

    def seed_wallets(self, accounts, now, actor):
        """Prepaid wallets: a top-up paid by transfer, a prepayment credit memo on an
        issued invoice, usage drawdowns, and a hold following an ongoing invoice."""
        account = accounts[3][0]  # Café Lumière, EUR
        project = wallets.create_wallet(account=account, name="Projet Atlas", actor=actor)
        top_up = payments.request_wallet_top_up(wallet=project, amount="5000.00", actor=actor)
        payments.mark_payment_paid(
            payment=top_up,
            method="bank_transfer",
            actor=actor,
            reference="ATLAS-PREPAY",
            at=now - timedelta(hours=6),
        )
        open_invoice = (
            Invoice.objects.filter(account=account, status__in=["due", "partially_paid"])
            .order_by("due_date")
            .first()
        )
        if open_invoice is not None:
            payments.apply_wallet(
                wallet=project, invoice=open_invoice, actor=actor, at=now - timedelta(hours=5)
            )
        for i, amount in enumerate(["12.40", "8.75", "31.10"]):
            wallets.usage_drawdown(
                wallet=project,
                amount=amount,
                reference=f"meter-2026-11-{i + 1:02d}",
                actor=ledger.system_actor("usage-meter"),
                description="Meeting room usage",
            )
        month_start = timezone.localdate(now).replace(day=1)
        next_month = (month_start + timedelta(days=32)).replace(day=1)
        ongoing = ledger.create_invoice(
            account=account,
            actor=actor,
            lines=[LineSpec("Room hours (this month)", 6, "35.00")],
            description="Usage so far",
            period_start=month_start,
            period_end=next_month - timedelta(days=1),
        )
        ledger.open_invoice(invoice=ongoing, actor=actor)
        payments.apply_wallet(wallet=project, invoice=ongoing, actor=actor)
        wallets.update_ongoing_line(line=ongoing.lines.first(), actor=actor, quantity="9")
        spare = wallets.create_wallet(account=accounts[0][0], name="Events", actor=actor)
        wallets.top_up(wallet=spare, amount="250.00", actor=actor, grant=True, reference="goodwill")

    def seed_ended_period(self, accounts, now, actor):
        """Ongoing invoices of last month, left for the billing run (admin: Billing runs
        -> Close billing period, or `manage.py close_period`)."""
        end = timezone.localdate(now).replace(day=1) - timedelta(days=1)
        for account, description, hours in (
            (accounts[3][0], "Meeting rooms", 7),
            (accounts[5][0], "Hot desk", 12),
        ):
            ongoing = ledger.create_invoice(
                account=account,
                actor=actor,
                lines=[LineSpec(f"{description}, hours used", hours, "12.50")],
                description=f"Usage {end:%B %Y}",
                period_start=end.replace(day=1),
                period_end=end,
            )
            ledger.open_invoice(invoice=ongoing, actor=actor)

    def month_starts(self, start, now):
        month = start
        while month < now - timedelta(days=35):
            yield month
            month = (month + timedelta(days=32)).replace(day=1, hour=9)

    def seed_account(self, account, lines, index, start, now, rng, actor):
        """Twelve monthly invoices, most paid by transfer within two weeks."""
        if index == 5:  # a prepaying member: credit on the account before the first invoice
            payments.record_payment(
                account=account,
                amount="400.00",
                method="bank_transfer",
                actor=actor,
                reference="PREPAY-2025",
                at=start - timedelta(days=3),
            )
        for month_no, month in enumerate(self.month_starts(start, now)):
            at = month + timedelta(hours=index)
            invoice = self.issue_month(account, lines, month, at, rng, actor)
            if invoice.amount_due.amount <= 0:
                continue
            payment, paid_at = self.pay_month(invoice, index, month_no, at, rng, actor)
            self.month_events(account, invoice, payment, paid_at, index, month_no, actor)

    def issue_month(self, account, lines, month, at, rng, actor):
        """The month's invoice, issued (hourly quantities vary a little)."""
        specs = [
            LineSpec(desc, Decimal(qty) + (rng.randint(0, 3) if qty > 5 else 0), price)
            for desc, qty, price in lines
        ]
        invoice = ledger.create_invoice(
            account=account,
            actor=actor,
            lines=specs,
            description=f"Services {month:%B %Y}",
        )
        return payments.issue_invoice(invoice=invoice, actor=actor, at=at)

    def pay_month(self, invoice, index, month_no, at, rng, actor):
        """Approve it for the ERP if needed and mark it paid (once in two halves);
        returns the payment and when it was paid."""
        waiting = Payment.objects.filter(invoice=invoice).order_by("-id").first()
        if waiting.status == PaymentStatus.PENDING_BILLING:
            payments.approve_by_erp(payment=waiting, actor=actor, reason="ERP sync")
        paid_at = at + timedelta(days=rng.randint(3, 13), hours=rng.randint(1, 7))
        method = ["bank_transfer", "bank_transfer", "card", "direct_debit", "cheque"][
            (index + month_no) % 5
        ]
        if index == 0 and month_no == 4:  # part payment, the rest a week later
            half = (invoice.amount_due.amount / 2).quantize(Decimal("0.01"))
            payments.mark_invoice_paid(
                invoice=invoice,
                method="bank_transfer",
                amount=str(half),
                actor=actor,
                at=paid_at,
            )
            paid_at += timedelta(days=7)
        payment = payments.mark_invoice_paid(
            invoice=invoice,
            method=method,
            actor=actor,
            reference=f"BT{rng.randint(10**5, 10**6)}",
            at=paid_at,
        )
        return payment, paid_at

    def month_events(self, account, invoice, payment, paid_at, index, month_no, actor):
        """What happened after a few payments: an overpayment, refunds, a chargeback."""
        if index == 3 and month_no == 6:  # overpaid by 40.00: stays as credit
            payments.record_payment(
                account=account,
                amount="40.00",
                method="bank_transfer",
                actor=actor,
                reference="overpayment",
                at=paid_at + timedelta(hours=1),
            )
        if index == 1 and month_no == 8:  # partial refund of a desk day
            payments.refund_payment(
                payment=payment,
                amount="64.00",
                actor=actor,
                reason="desk unavailable one day",
                at=paid_at + timedelta(days=2),
            )
        if index == 4 and month_no == 9:  # whole refund
            payments.refund_invoice(
                invoice=invoice,
                actor=actor,
                reason="service not delivered",
                at=paid_at + timedelta(days=3),
            )
        if index == 0 and month_no == 10:  # card chargeback, later paid again
            payments.record_dispute(
                payment=payment,
                actor=actor,
                reason="chargeback: not recognised",
                at=paid_at + timedelta(days=4),
            )
            payments.mark_invoice_paid(
                invoice=invoice,
                method="bank_transfer",
                actor=actor,
                reference="after dispute",
                at=paid_at + timedelta(days=9),
            )

    def seed_current_month(self, accounts, now, actor):
        """Recent invoices left in every open payment status."""
        at = now - timedelta(days=20)
        statuses = {}
        for i, (account, lines) in enumerate(accounts):
            invoice = ledger.create_invoice(
                account=account,
                actor=actor,
                lines=[LineSpec(desc, qty, price) for desc, qty, price in lines],
                description=f"Services {at:%B %Y}",
            )
            invoice = payments.issue_invoice(
                invoice=invoice,
                actor=actor,
                at=at + timedelta(hours=i),
                due_date=(now - timedelta(days=3)).date() if i == 4 else None,
            )
            statuses[i] = (invoice, Payment.objects.filter(invoice=invoice).order_by("-id").first())
        # 0: receipt sent, waiting for the money; 1: receipt being prepared
        payments.create_receipt(payment=statuses[0][1], actor=actor, method="bank_transfer")
        payments.send_receipt(payment=statuses[0][1], actor=actor)
        payments.create_receipt(payment=statuses[1][1], actor=actor, method="cash")
        # 2: ERP-managed account, pending billing (left as is)
        # 3: a card payment at the sandbox gateway (its outcome is queued: deliver it
        # from the admin's "Sandbox events" page, or `manage.py deliver_sandbox_events`)
        payments.start_card_payment(
            payment=statuses[3][1], card_number="4242 4242 4242 4242", actor=actor
        )
        # 4: past due -> expired by expire_due_payments at the end
        # 5: a cancelled invoice and its cancelled payment
        payments.cancel_invoice(
            invoice=statuses[5][0], actor=actor, reason="duplicate", at=at + timedelta(days=1)
        )
        # A receipt completed by hand (cash) for account 5
        invoice = ledger.create_invoice(
            account=accounts[5][0], actor=actor, lines=[LineSpec("Locker", 1, "15.00")]
        )
        invoice = payments.issue_invoice(invoice=invoice, actor=actor, at=now - timedelta(days=2))
        waiting = Payment.objects.filter(invoice=invoice).order_by("-id").first()
        if waiting is not None and waiting.status == PaymentStatus.WAITING_FOR_PAYMENT:
            payments.create_receipt(payment=waiting, actor=actor, method="cash")
            payments.send_receipt(payment=waiting, actor=actor)
            payments.mark_payment_paid(
                payment=waiting, method="cash", actor=actor, at=now - timedelta(days=1)
            )
        # A payment link for the demo member's newest invoice.
        invoice = ledger.create_invoice(
            account=accounts[0][0], actor=actor, lines=[LineSpec("Event space", 1, "180.00")]
        )
        invoice = payments.issue_invoice(invoice=invoice, actor=actor, at=now - timedelta(hours=1))
        payments.create_payment_link(invoice=invoice, actor=actor)
        # One more left waiting for the member's transfer.
        invoice = ledger.create_invoice(
            account=accounts[5][0], actor=actor, lines=[LineSpec("Day passes", 4, "22.50")]
        )
        payments.issue_invoice(invoice=invoice, actor=actor, at=now - timedelta(hours=20))
