"""Every write endpoint of the REST API beside the service it calls (``bench/api_bench.py``).

A scenario makes one *target* per operation through the services (an issued invoice to
mark paid, a completed payment to refund, ...), untimed; then ``request(target)`` is the
HTTP request the API bench sends for it and ``call(target)`` the service call the view
makes for it, with the same arguments. Both are timed on targets of their own.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moneyed import Money

GBP = "GBP"


def gbp(amount: str) -> dict:
    return {"amount": amount, "currency": GBP}


@dataclass
class Scenario:
    endpoint: str  # "POST /invoices/{id}/issue/"
    service: str  # what the view calls
    make: Callable[[], Any]
    request: Callable[[Any], tuple[str, str, dict | None]]
    call: Callable[[Any], Any]
    expect: int = 200


class World:
    """The accounts the targets live on, and the factories that make them."""

    def __init__(self):
        from ledger import services as ledger
        from ledger.services import LineSpec
        from payments import services as pay
        from wallets import services as wallets

        self.ledger, self.pay, self.wallets, self.LineSpec = ledger, pay, wallets, LineSpec
        self.actor = ledger.system_actor("api-bench")
        tag = uuid.uuid4().hex[:8]
        self.tag = tag
        self.account = self.new_account("main")
        self.erp = self.new_account("erp", erp_managed=True)
        self.wallet = wallets.create_wallet(account=self.account, name="Usage", actor=self.actor)
        wallets.top_up(wallet=self.wallet, amount="100000000.00", actor=self.actor, grant=True)

    def new_account(self, label: str, **kwargs):
        return self.ledger.create_account(
            name=f"API bench {self.tag} {label} {uuid.uuid4().hex[:6]}",
            email="bench@example.test",
            currency=GBP,
            actor=self.actor,
            **kwargs,
        )

    def draft(self, account=None, amount="75.00"):
        lines = [self.LineSpec("Seat", "1", amount)]
        return self.ledger.create_invoice(
            account=account or self.account, actor=self.actor, lines=lines
        )

    def ongoing(self, lines=1):
        invoice = self.ledger.open_invoice(invoice=self.draft(), actor=self.actor)
        for _ in range(lines - 1):
            self.wallets.add_ongoing_line(
                invoice=invoice, line=self.LineSpec("Extra", "1", "5.00"), actor=self.actor
            )
        return invoice

    def issued(self, account=None):
        return self.pay.issue_invoice(invoice=self.draft(account), actor=self.actor)

    def waiting(self, account=None):
        invoice = self.issued(account)
        return invoice.payments.filter(status__in=["waiting_for_payment", "pending_billing"]).get()

    def paid(self):
        invoice = self.issued()
        payment = self.pay.mark_invoice_paid(
            invoice=invoice, method="bank_transfer", actor=self.actor
        )
        return invoice, payment

    def credit(self, account, amount="20.00"):
        """Free credit on ``account`` (a completed payment with nothing to pay). Never on
        the main account: issuing there would apply it and leave nothing waiting."""
        return self.pay.record_payment(
            account=account, amount=amount, method="cash", actor=self.actor
        )


def scenarios(w: World) -> list[Scenario]:
    """One scenario per write endpoint (``billing_site/api``)."""
    return account_scenarios(w) + invoice_scenarios(w) + payment_scenarios(w) + wallet_scenarios(w)


def account_scenarios(w: World) -> list[Scenario]:
    L, A = w.ledger, w.actor

    def group_with_account():
        group = L.create_group(name=f"G {uuid.uuid4().hex}", actor=A)
        account = w.new_account("grouped", group=group)
        return group, account

    return [
        Scenario(
            "POST /accounts/",
            "ledger.create_account",
            lambda: f"New {uuid.uuid4().hex[:10]}",
            lambda name: (
                "POST",
                "/accounts/",
                {"name": name, "email": "n@x.test", "currency": GBP},
            ),
            lambda name: L.create_account(name=name, email="n@x.test", currency=GBP, actor=A),
            201,
        ),  # fmt: skip
        Scenario(
            "PATCH /accounts/{id}/",
            "ledger.update_account",
            lambda: w.new_account("edit"),
            lambda a: ("PATCH", f"/accounts/{a.pk}/", {"name": f"{a.name} (renamed)"}),
            lambda a: L.update_account(account=a.pk, actor=A, name=f"{a.name} (renamed)"),
        ),
        Scenario(
            "DELETE /accounts/{id}/",
            "ledger.delete_account",
            lambda: w.new_account("delete"),
            lambda a: ("DELETE", f"/accounts/{a.pk}/", None),
            lambda a: L.delete_account(account=a.pk, actor=A),
            204,
        ),
        Scenario(
            "POST /account-groups/",
            "ledger.create_group",
            lambda: f"Group {uuid.uuid4().hex}",
            lambda name: ("POST", "/account-groups/", {"name": name}),
            lambda name: L.create_group(name=name, actor=A),
            201,
        ),
        Scenario(
            "POST /account-groups/{id}/payments/",
            "payments.record_group_payment",
            group_with_account,
            lambda t: (
                "POST",
                f"/account-groups/{t[0].pk}/payments/",
                {"amount": gbp("10.00"), "method": "bank_transfer", "leftover_account": t[1].pk},
            ),
            lambda t: w.pay.record_group_payment(
                group=t[0].pk,
                amount="10.00",
                method="bank_transfer",
                actor=A,
                leftover_account=t[1].pk,
            ),  # fmt: skip
            201,
        ),
    ]


def invoice_scenarios(w: World) -> list[Scenario]:
    L, P, W, A, LineSpec = w.ledger, w.pay, w.wallets, w.actor, w.LineSpec
    acc = w.account
    line = {"description": "Seat", "quantity": "2", "unit_price": gbp("37.50")}

    def path(i, suffix=""):
        return f"/invoices/{i.pk}/{suffix}"

    return [
        Scenario(
            "POST /invoices/",
            "ledger.create_invoice",
            lambda: acc,
            lambda a: ("POST", "/invoices/", {"account": a.pk, "lines": [line]}),
            lambda a: L.create_invoice(account=a, actor=A, lines=[LineSpec("Seat", "2", "37.50")]),
            201,
        ),
        Scenario(
            "PATCH /invoices/{id}/",
            "ledger.update_invoice",
            w.draft,
            lambda i: ("PATCH", path(i), {"description": "Edited"}),
            lambda i: L.update_invoice(invoice=i.pk, actor=A, description="Edited"),
        ),
        Scenario(
            "POST /invoices/{id}/open/",
            "ledger.open_invoice",
            w.draft,
            lambda i: ("POST", path(i, "open/"), {}),
            lambda i: L.open_invoice(invoice=i, actor=A),
        ),
        Scenario(
            "POST /invoices/{id}/issue/",
            "payments.issue_invoice",
            w.draft,
            lambda i: ("POST", path(i, "issue/"), {}),
            lambda i: P.issue_invoice(invoice=i, actor=A, due_date=None),
        ),
        Scenario(
            "POST /invoices/{id}/cancel/",
            "payments.cancel_invoice",
            w.issued,
            lambda i: ("POST", path(i, "cancel/"), {}),
            lambda i: P.cancel_invoice(invoice=i, actor=A, reason=""),
        ),
        Scenario(
            "POST /invoices/{id}/mark-paid/",
            "payments.mark_invoice_paid",
            w.issued,
            lambda i: ("POST", path(i, "mark-paid/"), {"method": "bank_transfer"}),
            lambda i: P.mark_invoice_paid(invoice=i, method="bank_transfer", actor=A),
        ),
        Scenario(
            "POST /invoices/{id}/refund/",
            "payments.refund_invoice",
            lambda: w.paid()[0],
            lambda i: ("POST", path(i, "refund/"), {}),
            lambda i: P.refund_invoice(invoice=i, actor=A, reason=""),
        ),
        Scenario(
            "POST /invoices/{id}/payment-link/",
            "payments.create_payment_link",
            w.issued,
            lambda i: ("POST", path(i, "payment-link/"), {}),
            lambda i: P.create_payment_link(invoice=i, actor=A, days=None),
            201,
        ),
        Scenario(
            "POST /invoices/{id}/lines/",
            "wallets.add_ongoing_line",
            w.ongoing,
            lambda i: ("POST", path(i, "lines/"), line),
            lambda i: W.add_ongoing_line(invoice=i, line=LineSpec("Seat", "2", "37.50"), actor=A),
            201,
        ),
        Scenario(
            "PATCH /invoices/{id}/lines/{line}/",
            "wallets.update_ongoing_line",
            lambda: w.ongoing().lines.get(),
            lambda ln: ("PATCH", f"/invoices/{ln.invoice_id}/lines/{ln.pk}/", {"quantity": "3"}),
            lambda ln: W.update_ongoing_line(line=ln, actor=A, quantity="3"),
        ),
        Scenario(
            "DELETE /invoices/{id}/lines/{line}/",
            "wallets.remove_ongoing_line",
            lambda: w.ongoing(lines=2).lines.order_by("pk").last(),
            lambda ln: ("DELETE", f"/invoices/{ln.invoice_id}/lines/{ln.pk}/", None),
            lambda ln: W.remove_ongoing_line(line=ln, actor=A),
        ),
    ]


def payment_scenarios(w: World) -> list[Scenario]:
    P, A = w.pay, w.actor

    def receipt_creating():
        return P.create_receipt(payment=w.waiting(), actor=A, method="bank_transfer")

    def credit_then_waiting():
        account = w.new_account("balance")
        waiting = w.waiting(account)
        w.credit(account, "100.00")
        return waiting

    def credit_and_invoice():
        account = w.new_account("assign")
        invoice = w.issued(account)
        return w.credit(account, "75.00"), invoice

    def send_receipt(p):
        from django.db import transaction

        from billing_site.documents.receipts import send_receipt

        with transaction.atomic():  # the API's write transaction: the email after commit
            return send_receipt(payment=p, actor=A, to=None)

    def pay_path(p, suffix):
        return f"/payments/{p.pk}/{suffix}"

    return [
        Scenario(
            "POST /payments/",
            "payments.record_payment",
            lambda: w.new_account("credit"),
            lambda a: (
                "POST",
                "/payments/",
                {"account": a.pk, "amount": gbp("20.00"), "method": "cash"},
            ),
            lambda a: P.record_payment(
                account=a, amount=Money("20.00", GBP), method="cash", actor=A
            ),
            201,
        ),  # fmt: skip
        Scenario(
            "POST /payments/{id}/approve/",
            "payments.approve_by_erp",
            lambda: w.waiting(w.erp),
            lambda p: ("POST", pay_path(p, "approve/"), {}),
            lambda p: P.approve_by_erp(payment=p, actor=A, reason=""),
        ),
        Scenario(
            "POST /payments/{id}/create-receipt/",
            "payments.create_receipt",
            w.waiting,
            lambda p: ("POST", pay_path(p, "create-receipt/"), {"method": "bank_transfer"}),
            lambda p: P.create_receipt(payment=p, actor=A, method="bank_transfer", note=""),
        ),
        Scenario(
            "POST /payments/{id}/send-receipt/",
            "documents.send_receipt (+ the email, after commit)",
            receipt_creating,
            lambda p: ("POST", pay_path(p, "send-receipt/"), {}),
            send_receipt,
        ),
        Scenario(
            "POST /payments/{id}/complete/",
            "payments.mark_payment_paid",
            w.waiting,
            lambda p: ("POST", pay_path(p, "complete/"), {"method": "bank_transfer"}),
            lambda p: P.mark_payment_paid(payment=p, method="bank_transfer", actor=A),
        ),
        Scenario(
            "POST /payments/{id}/cancel/",
            "payments.cancel_payment",
            w.waiting,
            lambda p: ("POST", pay_path(p, "cancel/"), {}),
            lambda p: P.cancel_payment(payment=p, actor=A, reason=""),
        ),
        Scenario(
            "POST /payments/{id}/pay-from-balance/",
            "payments.pay_from_balance",
            credit_then_waiting,
            lambda p: ("POST", pay_path(p, "pay-from-balance/"), None),
            lambda p: P.pay_from_balance(payment=p, actor=A),
        ),
        Scenario(
            "POST /payments/{id}/refund/",
            "payments.refund_payment",
            lambda: w.paid()[1],
            lambda p: ("POST", pay_path(p, "refund/"), {}),
            lambda p: P.refund_payment(payment=p, actor=A, reason=""),
            201,
        ),
        Scenario(
            "POST /payments/{id}/dispute/",
            "payments.record_dispute",
            lambda: w.paid()[1],
            lambda p: ("POST", pay_path(p, "dispute/"), {}),
            lambda p: P.record_dispute(payment=p, actor=A, reason=""),
            201,
        ),
        Scenario(
            "POST /payments/{id}/assign/",
            "payments.assign_payment",
            credit_and_invoice,
            lambda t: ("POST", pay_path(t[0], "assign/"), {"allocations": [{"invoice": t[1].pk}]}),
            lambda t: P.assign_payment(payment=t[0], allocations=[(t[1].pk, None)], actor=A),
        ),
    ]


def wallet_scenarios(w: World) -> list[Scenario]:
    P, W, A = w.pay, w.wallets, w.actor
    wallet = w.wallet
    # Transfers make account credit: on an account of their own (see World.credit).
    to_credit = W.create_wallet(account=w.new_account("transfers"), name="T", actor=A)
    W.top_up(wallet=to_credit, amount="100000.00", actor=A, grant=True)

    def funded():
        new = W.create_wallet(account=w.account, name=f"W {uuid.uuid4().hex}", actor=A)
        W.top_up(wallet=new, amount="100.00", actor=A, grant=True)
        return new

    def hold():
        return P.apply_wallet(wallet=wallet, invoice=w.ongoing(), actor=A)

    def wpath(x, suffix=""):
        return f"/wallets/{x.pk}/{suffix}"

    return [
        Scenario(
            "POST /wallets/",
            "wallets.create_wallet",
            lambda: f"Wallet {uuid.uuid4().hex}",
            lambda name: ("POST", "/wallets/", {"account": w.account.pk, "name": name}),
            lambda name: W.create_wallet(account=w.account.pk, name=name, actor=A),
            201,
        ),
        Scenario(
            "POST /wallets/{id}/drawdowns/",
            "wallets.usage_drawdown",
            lambda: f"meter-{uuid.uuid4().hex}",
            lambda ref: (
                "POST",
                wpath(wallet, "drawdowns/"),
                {"amount": gbp("1.25"), "reference": ref},
            ),
            lambda ref: W.usage_drawdown(
                wallet=wallet, amount=Money("1.25", GBP), reference=ref, description="", actor=A
            ),
            201,
        ),  # fmt: skip
        Scenario(
            "POST /wallets/{id}/transfer-to-credit/",
            "wallets.transfer_to_credit",
            lambda: to_credit,
            lambda x: ("POST", wpath(x, "transfer-to-credit/"), {"amount": gbp("1.00")}),
            lambda x: W.transfer_to_credit(wallet=x, amount=Money("1.00", GBP), actor=A),
            201,
        ),
        Scenario(
            "POST /wallets/{id}/holds/{hold}/release/",
            "wallets.release_hold",
            hold,
            lambda h: ("POST", f"/wallets/{h.wallet_id}/holds/{h.pk}/release/", None),
            lambda h: W.release_hold(hold=h, actor=A),
        ),
        Scenario(
            "POST /wallets/{id}/top-ups/ (grant)",
            "wallets.top_up(grant=True)",
            lambda: wallet,
            lambda x: ("POST", wpath(x, "top-ups/"), {"amount": gbp("5.00"), "grant": True}),
            lambda x: W.top_up(
                wallet=x, amount=Money("5.00", GBP), actor=A, grant=True, reference=""
            ),
            201,
        ),  # fmt: skip
        Scenario(
            "POST /wallets/{id}/top-ups/ (payment)",
            "payments.request_wallet_top_up",
            lambda: wallet,
            lambda x: (
                "POST",
                wpath(x, "top-ups/"),
                {"amount": gbp("5.00"), "grant": False, "method": "bank_transfer"},
            ),
            lambda x: P.request_wallet_top_up(
                wallet=x, amount=Money("5.00", GBP), actor=A, method="bank_transfer", due_date=None
            ),
            201,
        ),  # fmt: skip
        Scenario(
            "POST /wallets/{id}/apply/",
            "payments.apply_wallet",
            lambda: (funded(), w.issued()),
            lambda t: ("POST", wpath(t[0], "apply/"), {"invoice": t[1].pk}),
            lambda t: P.apply_wallet(wallet=t[0], invoice=t[1], amount=None, actor=A),
            201,
        ),
    ]
