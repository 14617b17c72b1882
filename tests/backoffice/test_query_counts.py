"""Every changelist and the invoice, payment, wallet and position pages run a number of
queries that does not grow with the rows they show (issue 11): each page is measured on
a small world, then must stay within that count on a world several times larger."""

import pytest
from django.contrib import admin as django_admin
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing_site.api.models import ApiKey
from ledger import services as ledger
from ledger.services import LineSpec
from payments import services as pay
from payments.gateways.sandbox import CARD_SUCCESS
from payments.models import Payment
from wallets import services as wallets

pytestmark = pytest.mark.django_db


def grow(n: int, actor) -> dict:
    """``n`` of everything, through the services; returns the objects the pages show."""
    group = ledger.create_group(name=f"Group {n}", actor=actor)
    accounts = [
        ledger.create_account(
            name=f"Member {n}-{i}",
            email=f"m{n}-{i}@x.test",
            currency="GBP",
            actor=actor,
            group=group,
        )
        for i in range(n)
    ]
    main = accounts[0]
    wallet = wallets.create_wallet(account=main, name="Main", actor=actor)
    wallets.top_up(wallet=wallet, amount="10000.00", actor=actor, grant=True)
    invoice = ledger.create_invoice(
        account=main,
        actor=actor,
        lines=[LineSpec(f"Line {i}", "1", "100.00") for i in range(n)],
    )
    invoice = pay.issue_invoice(invoice=invoice, actor=actor)
    pay.apply_wallet(wallet=wallet, invoice=invoice, amount="10.00", actor=actor)
    for _i in range(n):
        pay.mark_invoice_paid(invoice=invoice, method="cash", amount="5.00", actor=actor)
        pay.create_payment_link(invoice=invoice, actor=actor)
    credit = pay.record_payment(account=main, amount=f"{n * 3}.00", method="cash", actor=actor)
    for i in range(n):
        other = ledger.create_invoice(account=main, actor=actor, lines=[LineSpec("x", "1", "3")])
        other = pay.issue_invoice(invoice=other, actor=actor)
        ongoing = ledger.open_invoice(
            invoice=ledger.create_invoice(
                account=main, actor=actor, lines=[LineSpec("u", "1", "2.00")]
            ),
            actor=actor,
        )
        pay.apply_wallet(wallet=wallet, invoice=ongoing, actor=actor)
        wallets.usage_drawdown(wallet=wallet, amount="1.00", reference=f"u{n}-{i}", actor=actor)
    for account in accounts[1:]:
        owed = pay.issue_invoice(
            invoice=ledger.create_invoice(
                account=account, actor=actor, lines=[LineSpec("d", "1", "9")]
            ),
            actor=actor,
        )
        waiting = Payment.objects.get(invoice=owed, status="waiting_for_payment")
        pay.start_card_payment(payment=waiting, card_number=CARD_SUCCESS, actor=actor)
        ApiKey.create_with_key(name=f"key {account.pk}", scopes=["read"])
        wallets.create_wallet(account=account, name="Side", actor=actor)
    call_command("deliver_sandbox_events", "--all", verbosity=0)
    pay.record_group_payment(
        group=group, amount="1.00", method="cash", actor=actor, leftover_account=main
    )
    paid = Payment.objects.filter(invoice=invoice, status="completed").first()
    return {
        "account": main,
        "invoice": invoice,
        "payment": paid,
        "credit": credit,
        "wallet": wallet,
    }


def count(client, url) -> int:
    client.get(url)  # warm the session and content-type caches alike for both sizes
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


def pages(world) -> dict[str, str]:
    urls = {
        "invoice": reverse("admin:ledger_invoice_change", args=[world["invoice"].pk]),
        "invoice history": reverse("admin:ledger_invoice_history", args=[world["invoice"].pk]),
        "payment": reverse("admin:payments_payment_change", args=[world["payment"].pk]),
        "payment history": reverse("admin:payments_payment_history", args=[world["payment"].pk]),
        "assign form": reverse(
            "admin:payments_payment_action", args=[world["credit"].pk, "assign"]
        ),
        "wallet": reverse("admin:wallets_wallet_change", args=[world["wallet"].pk]),
        "position": reverse("admin:payments_account_position", args=[world["account"].pk]),
        "payments tab": reverse("admin:ledger_account_payments", args=[world["account"].pk]),
        "record payment": reverse("admin:payments_payment_record")
        + f"?account={world['account'].pk}",
    }
    for model in django_admin.site._registry:
        meta = model._meta
        urls[f"{meta.app_label}.{meta.model_name} list"] = reverse(
            f"admin:{meta.app_label}_{meta.model_name}_changelist"
        )
    return urls


def test_no_page_grows_with_its_rows(admin, actor, django_assert_max_num_queries):
    small = {name: count(admin, url) for name, url in pages(grow(2, actor)).items()}
    big_world = grow(7, actor)
    for name, url in pages(big_world).items():
        with django_assert_max_num_queries(small[name], info=name):
            response = admin.get(url)
        assert response.status_code == 200, name
