"""docs/OPERATIONS.md is true (issue 11): every row's tests exist — the admin one marked
for PostgreSQL with no wrapping transaction — and every API route it names is routed.
Also the PostgreSQL tests some rows name: the read pages, the group and invoice header
forms, the position over the API."""

import importlib
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from billing_site.api.models import ApiKey
from ledger.models import Account, AccountGroup
from payments import services as pay
from payments.selectors import account_position
from tests.composition.admin_pages import succeeded
from tests.payments.conftest import fresh

D = Decimal
DOC = Path(__file__).resolve().parents[2] / "docs" / "OPERATIONS.md"


def rows() -> list[list[str]]:
    table = [line for line in DOC.read_text().splitlines() if re.match(r"\| \d+ \|", line)]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in table]


def test_the_table_has_a_row_per_operation():
    numbers = [int(row[0]) for row in rows()]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 35
    assert all(len(row) == 6 for row in rows())


def _marks(function, module) -> list:
    found = []
    for owner in (module, function):
        marks = getattr(owner, "pytestmark", [])
        marks = marks if isinstance(marks, list) else [marks]
        found += [getattr(m, "mark", m) for m in marks]
    return found


def _test_function(node_id: str):
    path, name = node_id.split("::")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    return getattr(module, name.split("[")[0]), module


@pytest.mark.parametrize("row", rows(), ids=lambda row: f"row{row[0]}")
def test_each_row_names_tests_that_exist(row):
    tests = row[5]
    admin = re.search(r"admin `([^`]+)`", tests)
    api = re.search(r"API `([^`]+)`", tests)
    no_admin_face = row[2].startswith("none:")
    if not no_admin_face:
        assert admin, f"row {row[0]}: no admin test"
        function, module = _test_function(admin.group(1))
        marks = _marks(function, module)
        assert any(m.name == "postgres" for m in marks), f"row {row[0]}: not on PostgreSQL"
        assert any(m.name == "django_db" and m.kwargs.get("transaction") for m in marks), (
            f"row {row[0]}: wrapped in a transaction"
        )
    has_api = "`" in row[3] and "none yet" not in row[3]
    if has_api:
        assert api, f"row {row[0]}: no API test"
        _test_function(api.group(1))


SAMPLE = {"{id}": "1", "{line}": "1", "{hold}": "1", "<name>": "sandbox"}


@pytest.mark.parametrize("row", rows(), ids=lambda row: f"row{row[0]}")
def test_each_api_route_is_routed(row):
    for method_and_path in re.findall(r"`((?:GET|POST|PATCH|PUT|DELETE)[^`]*)`", row[3]):
        path = method_and_path.split()[-1]
        if path.startswith("/"):
            for placeholder, value in SAMPLE.items():
                path = path.replace(placeholder, value)
            try:
                match = resolve(path)
            except Resolver404:  # pragma: no cover - the assertion says which
                match = None
            assert match is not None and match.url_name != "", (row[0], path)
            assert "not_found" not in getattr(match.func, "__name__", ""), (row[0], path)


# --- the PostgreSQL tests the table names ----------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_read_pages_on_postgresql(admin, account, issue, actor, make_wallet):
    invoice = issue(account, "75.00")
    payment = pay.mark_invoice_paid(invoice=invoice, method="cash", amount="20.00", actor=actor)
    make_wallet(account, "Prepaid", "30.00")
    for url in [
        reverse("admin:ledger_account_payments", args=[account.pk]),
        reverse("admin:ledger_account_payments_csv", args=[account.pk]),
        reverse("admin:payments_account_position", args=[account.pk]),
        reverse("admin:ledger_invoice_history", args=[invoice.pk]),
        reverse("admin:payments_payment_history", args=[payment.pk]),
        reverse("admin:ledger_invoice_change", args=[invoice.pk]),
        reverse("admin:payments_payment_change", args=[payment.pk]),
    ]:
        response = admin.get(url)
        assert response.status_code == 200, url
    page = admin.get(reverse("admin:payments_account_position", args=[account.pk]))
    assert "£55.00" in page.content.decode()  # owed


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_group_and_invoice_header_forms_on_postgresql(admin, account, make_invoice):
    done = succeeded(
        admin, admin.post(reverse("admin:ledger_accountgroup_add"), {"name": "Resellers"})
    )
    assert "Resellers" in done.text()[0] and AccountGroup.objects.filter(name="Resellers").exists()
    draft = make_invoice(account, "10.00")
    line = draft.lines.get()
    data = {
        "series": "INV",
        "description": "Hot desk, January",
        "due_date": (timezone.localdate()).isoformat(),
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "1",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-id": str(line.pk),
        "lines-0-invoice": str(draft.pk),
        "lines-0-description": line.description,
        "lines-0-quantity": "1",
        "lines-0-unit_price": "10.00",
    }
    url = reverse("admin:ledger_invoice_change", args=[draft.pk])
    succeeded(admin, admin.post(url, data))
    draft = fresh(draft)
    assert (draft.description, draft.due_date) == ("Hot desk, January", timezone.localdate())


@pytest.mark.django_db
def test_api_position_equals_the_selector(account, issue, actor, make_wallet, ongoing):
    _key, raw = ApiKey.create_with_key(name="crm", scopes=["read"])
    issue(account, "75.00", due_in=-2)
    wallet = make_wallet(account, "Prepaid", "50.00")
    hold = pay.apply_wallet(wallet=wallet, invoice=ongoing(account, "20"), actor=actor)
    from django.test import Client

    response = Client().get(
        f"/api/v1/accounts/{account.pk}/position/", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    position = account_position(Account.objects.get(pk=account.pk))
    assert body["balance"] == {"amount": "-75.00", "currency": "GBP"}
    assert body["owed"] == body["overdue"] == {"amount": "75.00", "currency": "GBP"}
    assert body["free_credit"]["amount"] == f"{position.free_credit.amount:.2f}"
    [w] = body["wallets"]
    assert (w["held"]["amount"], w["available"]["amount"]) == ("20.00", "30.00")
    assert w["holds"] == [
        {
            "hold": hold.pk,
            "invoice": hold.invoice_id,
            "amount": {"amount": "20.00", "currency": "GBP"},
        }
    ]
    assert body["invoices"][0]["overdue"] is True and body["invoices"][0]["days_overdue"] == 2
