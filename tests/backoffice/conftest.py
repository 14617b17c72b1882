"""Fixtures for the staff back-office suite (issue 11): a logged-in superuser and the
three roles, and small builders that go through the services.

After every test ``verify_ledger`` re-derives every balance from the entries."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from ledger import services as ledger
from ledger.services import LineSpec
from payments import services as pay
from payments.roles import AUDITOR, BILLING_ADMIN, BILLING_CLERK
from wallets import services as wallets


@pytest.fixture(autouse=True)
def verified_ledger(request):
    yield
    if "db" in request.fixturenames or "transactional_db" in request.fixturenames:
        call_command("verify_ledger", verbosity=0)


@pytest.fixture
def boss(db):
    return get_user_model().objects.create_superuser(
        username="boss", email="boss@billfold.test", password="x"
    )


@pytest.fixture
def admin(boss):
    """A superuser's browser session on the admin."""
    client = Client()
    client.force_login(boss)
    return client


def role_client(role: str) -> Client:
    user = get_user_model().objects.create_user(
        username=role.replace(" ", "-").lower(), password="x", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def billing_admin(db):
    return role_client(BILLING_ADMIN)


@pytest.fixture
def clerk(db):
    return role_client(BILLING_CLERK)


@pytest.fixture
def auditor(db):
    return role_client(AUDITOR)


@pytest.fixture
def issue(actor):
    """Create and issue an invoice (credit applied, waiting payment opened)."""

    def make(account, *amounts, due_in=None, **kwargs):
        lines = [LineSpec(f"Line {i + 1}", "1", a) for i, a in enumerate(amounts or ("75.00",))]
        draft = ledger.create_invoice(account=account, actor=actor, lines=lines, **kwargs)
        due = timezone.localdate() + timedelta(days=due_in) if due_in is not None else None
        return pay.issue_invoice(invoice=draft, actor=actor, due_date=due)

    return make


@pytest.fixture
def ongoing(actor):
    """An ongoing invoice with one line of ``quantity`` units at 1.00."""

    def make(account, quantity="100"):
        draft = ledger.create_invoice(
            account=account, actor=actor, lines=[LineSpec("Meter units", quantity, "1.00")]
        )
        return ledger.open_invoice(invoice=draft, actor=actor)

    return make


@pytest.fixture
def make_wallet(actor):
    def make(account, name="Prepaid", amount="50.00"):
        made = wallets.create_wallet(account=account, name=name, actor=actor)
        if amount:
            wallets.top_up(wallet=made, amount=amount, actor=actor, grant=True)
        return type(made).objects.get(pk=made.pk)

    return make


def text_of(response) -> str:
    """The page's text without tags or runs of whitespace (for reading figures off it)."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return words(html)


def words(html: str) -> str:
    """Text of an HTML fragment: no tags, entities decoded, single spaces."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def section(response, element_id: str) -> str:
    """The HTML of the element with ``id=element_id`` up to the next ``</table>`` or
    ``</div>`` closing it (enough for the tables these pages draw)."""
    html = response.content.decode()
    start = html.index(f'id="{element_id}"')
    end_table = html.find("</table>", start)
    return html[start : end_table if end_table != -1 else None]
