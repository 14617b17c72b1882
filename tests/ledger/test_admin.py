"""The staff admin of the ledger app: accounts, invoices (through the services, with the
Issue and Cancel actions) and the read-only ledger entries."""

from decimal import Decimal

import pytest
from django.contrib import admin as django_admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.urls import reverse
from moneyed import Money

from ledger import services
from ledger.models import Account, Invoice, InvoiceLine, LedgerEntry
from ledger.money import format_money
from ledger.services import Posting

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:ledger_invoice_changelist"


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def line_formset(*lines, initial=0, total=None):
    """POST data for the invoice's line inline: lines are dicts of the line fields."""
    prefix = "lines"
    data = {
        f"{prefix}-TOTAL_FORMS": str(total if total is not None else len(lines)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, line in enumerate(lines):
        for key, value in line.items():
            data[f"{prefix}-{i}-{key}"] = value
    return data


def invoice_post(account, *lines, **extra):
    data = {
        "account": str(account.pk),
        "series": "INV",
        "description": "Consulting",
        "due_date": "",
        **line_formset(*lines),
    }
    data.update(extra)
    return data


# --- accounts ---------------------------------------------------------------------------------


def test_add_account_goes_through_the_service(admin_client, django_user_model):
    member = django_user_model.objects.create_user("kt-member", password="x")
    response = admin_client.post(
        reverse("admin:ledger_account_add"),
        {
            "name": "Kuwait Trading",
            "email": "kt@example.test",
            "currency": "KWD",
            "external_ref": "",
            "group": "",
            "payment_terms_days": "30",
            "is_active": "on",
            "members": [str(member.pk)],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    account = Account.objects.get(name="Kuwait Trading")
    assert list(account.members.all()) == [member]
    assert account.balance == Money(0, "KWD")
    assert account.last_seq == 0 and account.external_ref is None
    assert account.payment_terms_days == 30


def test_account_list_shows_formatted_balance(admin_client, account, actor):
    services.post(
        account=account,
        postings=[Posting(kind="INVC", amount=Money("1234.50", "GBP"), reference="INVC-1")],
        actor=actor,
    )
    response = admin_client.get(reverse("admin:ledger_account_changelist"))
    assert response.status_code == 200
    assert "-£1,234.50" in response.content.decode()
    search = admin_client.get(reverse("admin:ledger_account_changelist") + f"?q={account.email}")
    assert account.name in search.content.decode()


def test_editing_an_account_never_overwrites_its_balance(admin_client, account, actor):
    url = reverse("admin:ledger_account_change", args=[account.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert 'aria-current="page">Details' in page.content.decode()
    # a payment lands while the clerk has the form open
    services.post(
        account=account,
        postings=[Posting(kind="PAYM", amount=Money("20.00", "GBP"), reference="PAYM-1")],
        actor=actor,
    )
    response = admin_client.post(
        url,
        {
            "name": "Renamed",
            "email": account.email,
            "external_ref": "CRM-9",
            "group": "",
            "payment_terms_days": "14",
            "is_active": "on",
            "currency": "EUR",  # read-only now: ignored
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    account.refresh_from_db()
    assert account.name == "Renamed" and account.external_ref == "CRM-9"
    assert account.balance == Money("20.00", "GBP") and account.last_seq == 1
    assert account.currency == "GBP"


def test_account_with_history_cannot_be_deleted(admin_client, make_account, make_invoice):
    used, unused = make_account(), make_account()
    make_invoice(used, "5.00")
    assert (
        admin_client.get(reverse("admin:ledger_account_delete", args=[used.pk])).status_code == 403
    )
    response = admin_client.post(
        reverse("admin:ledger_account_delete", args=[unused.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert list(Account.objects.all()) == [used]


def test_currency_can_change_before_any_history(admin_client, account):
    url = reverse("admin:ledger_account_change", args=[account.pk])
    response = admin_client.post(
        url,
        {
            "name": account.name,
            "email": account.email,
            "currency": "EUR",
            "payment_terms_days": "14",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.currency == "EUR" and account.balance == Money(0, "EUR")


def test_group_admin_lists_its_accounts(admin_client, make_account, actor):
    group = services.create_group(name="Acme group", actor=actor)
    member = make_account(group=group, name="Acme Paris")
    response = admin_client.get(reverse("admin:ledger_accountgroup_change", args=[group.pk]))
    assert response.status_code == 200
    assert member.name in response.content.decode()
    found = admin_client.get(reverse("admin:ledger_accountgroup_changelist") + "?q=Acme")
    assert "Acme group" in found.content.decode()


# --- invoices: editing drafts through the services ---------------------------------------------


def test_add_invoice_with_lines(admin_client, account):
    response = admin_client.post(
        reverse("admin:ledger_invoice_add"),
        invoice_post(
            account,
            {"description": "Consulting", "quantity": "1.5", "unit_price": "100.00"},
            {"description": "Support", "quantity": "1", "unit_price": "20"},
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    invoice = Invoice.objects.get()
    assert invoice.status == "draft" and invoice.currency == "GBP"
    assert invoice.total == Money("170.00", "GBP")
    assert [line.amount for line in invoice.lines.order_by("position")] == [
        Money("150.00", "GBP"),
        Money("20.00", "GBP"),
    ]


@pytest.mark.parametrize(
    ("currency", "line", "message"),
    [
        (
            "GBP",
            {"quantity": "1", "unit_price": "10.005"},
            "has more decimal places than GBP allows (2)",
        ),
        (
            "JPY",
            {"quantity": "1", "unit_price": "10.5"},
            "has more decimal places than JPY allows (0)",
        ),
        ("GBP", {"quantity": "-1", "unit_price": "10.00"}, "Quantity cannot be negative."),
        ("GBP", {"quantity": "1.00001", "unit_price": "10.00"}, "At most 4 decimal places"),
        ("GBP", {"quantity": "1", "unit_price": "-3.00"}, "cannot be negative"),
        ("GBP", {"quantity": "lots", "unit_price": "10.00"}, "is not a decimal number"),
    ],
)
def test_bad_line_is_a_form_error_and_creates_nothing(
    admin_client, make_account, currency, line, message
):
    account = make_account(currency=currency)
    response = admin_client.post(
        reverse("admin:ledger_invoice_add"),
        invoice_post(account, {"description": "Hosting", **line}),
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Invoice.objects.count() == 0 and InvoiceLine.objects.count() == 0


def test_edit_draft_lines_keeps_total(admin_client, account, make_invoice):
    invoice = make_invoice(account, "10.00", "5.00")
    first, second = invoice.lines.order_by("position")
    url = reverse("admin:ledger_invoice_change", args=[invoice.pk])
    assert admin_client.get(url).status_code == 200
    data = {
        "series": "INV",
        "description": "Changed",
        "due_date": "2030-01-31",
        **line_formset(
            {
                "id": str(first.pk),
                "invoice": str(invoice.pk),
                "description": "Line 1",
                "quantity": "3",
                "unit_price": "10.00",
            },
            {
                "id": str(second.pk),
                "invoice": str(invoice.pk),
                "description": "Line 2",
                "quantity": "1",
                "unit_price": "5.00",
                "DELETE": "on",
            },
            {"description": "New", "quantity": "2", "unit_price": "0.25"},
            initial=2,
        ),
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    invoice.refresh_from_db()
    assert invoice.description == "Changed" and str(invoice.due_date) == "2030-01-31"
    assert invoice.total == Money("30.50", "GBP")
    assert sorted(line.amount.amount for line in invoice.lines.all()) == [
        Decimal("0.50"),
        Decimal("30.00"),
    ]


def test_issued_invoice_is_read_only(admin_client, account, make_invoice):
    invoice = make_invoice(account, "10.00", issue=True)
    url = reverse("admin:ledger_invoice_change", args=[invoice.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert 'name="_save"' not in text
    assert 'name="lines-0-quantity"' not in text and 'name="lines-1-description"' not in text
    response = admin_client.post(url, {"description": "x", **line_formset()})
    assert response.status_code == 403
    invoice.refresh_from_db()
    assert invoice.description == "" and invoice.total == Money("10.00", "GBP")


def test_invoice_list_and_search(admin_client, account, make_invoice):
    invoice = make_invoice(account, "12.50", issue=True)
    response = admin_client.get(reverse(CHANGELIST) + f"?q={invoice.number}")
    assert response.status_code == 200
    text = response.content.decode()
    assert invoice.number in text and "£12.50" in text
    assert admin_client.get(reverse(CHANGELIST) + "?status__exact=due").status_code == 200


# --- invoices: Issue and Cancel actions --------------------------------------------------------


def run_action(client, action, invoices, **extra):
    ids = [str(i.pk) for i in invoices]
    url = reverse(CHANGELIST)
    confirm = client.post(url, {"action": action, ACTION_CHECKBOX_NAME: ids, "index": "0"})
    assert confirm.status_code == 200
    assert "admin/ledger/invoice/action_confirmation.html" in [t.name for t in confirm.templates]
    return client.post(url, {"action": action, ACTION_CHECKBOX_NAME: ids, "post": "yes", **extra})


def test_issue_action_posts_and_reports_each_invoice(admin_client, account, make_invoice):
    good = make_invoice(account, "75.00")
    empty = services.create_invoice(account=account, actor=services.system_actor("t"))
    response = run_action(admin_client, "issue_selected", [good, empty])
    assert response.status_code == 302
    good.refresh_from_db()
    empty.refresh_from_db()
    assert good.status == "due" and good.number
    assert empty.status == "draft"
    entry = LedgerEntry.objects.get(account=account)
    assert entry.reference == f"INVC-{good.number}" and entry.debit == Money("75.00", "GBP")
    assert entry.actor_label == "admin"
    account.refresh_from_db()
    assert account.balance == Money("-75.00", "GBP")
    msgs = messages_of(response)
    assert (
        "success",
        f"Invoice {good.number} issued to {account.name}: £75.00 posted, due "
        f"{good.due_date:%d %b %Y}.",
    ) in msgs
    assert any(level == "error" and "has nothing to charge" in text for level, text in msgs)


def test_cancel_action_with_reason(admin_client, account, make_invoice):
    invoice = make_invoice(account, "40.00", issue=True)
    response = run_action(admin_client, "cancel_selected", [invoice], reason="Duplicate")
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == "cancelled" and invoice.cancel_reason == "Duplicate"
    last = LedgerEntry.objects.filter(account=account).order_by("-seq").first()
    assert last.debit == Money("-40.00", "GBP") and last.balance_after == Money(0, "GBP")
    assert (
        "success",
        f"Invoice {invoice.number} cancelled; £40.00 credited back to the account.",
    ) in messages_of(response)


def test_refused_cancel_changes_nothing_and_does_not_stop_the_others(
    admin_client, account, make_invoice
):
    paid = make_invoice(account, "40.00", issue=True)
    # A part payment recorded on it (set directly: the payments app is not under test).
    Invoice.objects.filter(pk=paid.pk).update(amount_paid=Decimal("10.00"))
    other = make_invoice(account, "15.00", issue=True)
    account.refresh_from_db()
    balance, seq = account.balance, account.last_seq

    response = run_action(admin_client, "cancel_selected", [paid, other])
    paid.refresh_from_db()
    other.refresh_from_db()
    assert paid.status == "due" and paid.cancelled_at is None
    assert other.status == "cancelled"
    assert not LedgerEntry.objects.filter(invoice=paid).exclude(seq__lte=seq).exists()
    account.refresh_from_db()
    assert account.last_seq == seq + 1 and account.balance == balance + Money("15.00", "GBP")
    msgs = messages_of(response)
    assert (
        "error",
        f"Invoice {paid.number} cannot be cancelled: £10.00 was paid on it; refund it instead.",
    ) in msgs or any(lvl == "error" and "cannot be cancelled" in t for lvl, t in msgs)
    assert any(lvl == "success" and other.number in t for lvl, t in msgs)


def test_cancelling_a_cancelled_invoice_is_refused(admin_client, account, make_invoice):
    invoice = make_invoice(account, "5.00", issue=True)
    run_action(admin_client, "cancel_selected", [invoice])
    count = LedgerEntry.objects.count()
    response = run_action(admin_client, "cancel_selected", [invoice])
    assert LedgerEntry.objects.count() == count
    assert any(
        lvl == "error" and "only draft, ongoing or due" in t for lvl, t in messages_of(response)
    )


def test_invoices_have_no_bulk_delete(admin_client, account, make_invoice):
    invoice = make_invoice(account, "5.00", issue=True)
    response = admin_client.get(reverse(CHANGELIST))
    assert 'value="delete_selected"' not in response.content.decode()
    assert (
        admin_client.get(reverse("admin:ledger_invoice_delete", args=[invoice.pk])).status_code
        == 403
    )


# --- ledger entries: read-only ------------------------------------------------------------------


def test_ledger_entries_are_read_only(admin_client, rf, admin_user, account, actor):
    (entry,) = services.post(
        account=account,
        postings=[Posting(kind="PAYM", amount=Money("9.99", "GBP"), reference="PAYM-Z")],
        actor=actor,
    )
    model_admin = django_admin.site._registry[LedgerEntry]
    request = rf.get("/")
    request.user = admin_user
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)

    listing = admin_client.get(reverse("admin:ledger_ledgerentry_changelist") + "?q=PAYM-Z")
    assert listing.status_code == 200 and "£9.99" in listing.content.decode()
    assert admin_client.get(reverse("admin:ledger_ledgerentry_add")).status_code == 403
    change = reverse("admin:ledger_ledgerentry_change", args=[entry.pk])
    assert admin_client.get(change).status_code == 200  # view only
    assert admin_client.post(change, {"reference": "X"}).status_code == 403
    delete = reverse("admin:ledger_ledgerentry_delete", args=[entry.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert LedgerEntry.objects.get(pk=entry.pk).reference == "PAYM-Z"


def test_money_template_filters():
    from django.template import Context, Template

    out = Template(
        "{% load money %}{{ a|money }}|{{ b|money }}|{{ a|money_plain }}|{{ c|money }}"
    ).render(Context({"a": Money("-1234.5", "GBP"), "b": Money("1200", "JPY"), "c": None}))
    assert out == f"-£1,234.50|{format_money(Money('1200', 'JPY'))}|-1234.50|"
    assert "1,200" in out and "." not in out.split("|")[1]


def test_issue_action_runs_the_payments_use_case(admin_client, account, actor, make_invoice):
    """Issuing from the admin applies the account's credit (SPEC section 3 worked
    example): the invoice admin is the payments app's, which calls its use case."""
    services.post(
        account=account,
        postings=[Posting(kind="PAYM", amount=Money("50.00", "GBP"), reference="PAYM-TOPUP")],
        actor=actor,
    )
    invoice = make_invoice(account, "75.00")
    response = run_action(admin_client, "issue_selected", [invoice])
    assert any(level == "success" for level, _ in messages_of(response))
    account.refresh_from_db()
    assert account.balance == Money("-25.00", "GBP")
    kinds = list(
        LedgerEntry.objects.filter(account=account).order_by("seq").values_list("kind", flat=True)
    )
    invoice.refresh_from_db()
    assert kinds == ["PAYM", "INVC", "PAYM", "CRED"]
    assert invoice.status == "partially_paid" and invoice.amount_due == Money("25.00", "GBP")
