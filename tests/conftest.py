import pytest
from django.db import connection

from ledger import services
from ledger.services import LineSpec


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def actor():
    return services.system_actor("tests")


@pytest.fixture
def make_account(actor):
    counter = {"n": 0}

    def make(currency="GBP", **kwargs):
        counter["n"] += 1
        kwargs.setdefault("name", f"Member {counter['n']}")
        kwargs.setdefault("email", f"member{counter['n']}@example.test")
        return services.create_account(currency=currency, actor=actor, **kwargs)

    return make


@pytest.fixture
def account(make_account):
    return make_account()


@pytest.fixture
def make_invoice(actor):
    def make(account, *amounts, issue=False, **kwargs):
        lines = [LineSpec(f"Line {i + 1}", "1", a) for i, a in enumerate(amounts or ("75.00",))]
        invoice = services.create_invoice(account=account, actor=actor, lines=lines, **kwargs)
        if issue:
            invoice, _ = services.post_invoice(invoice=invoice, actor=actor)
        return invoice

    return make


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` skip, with a reason, when the suite runs on SQLite."""
    if on_postgres_url():
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL (real row locks, triggers); runs in the PostgreSQL pass"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def on_postgres_url() -> bool:
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.fixture(autouse=True)
def _fresh_content_type_cache():
    """Transactional tests flush the database, and content types come back with new ids;
    Django's in-process ContentType cache would hand out the old ones (the generic
    ``source`` links of entries and wallet transactions would then break their FK)."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    yield
    ContentType.objects.clear_cache()


@pytest.fixture
def send_receipt(django_capture_on_commit_callbacks):
    """The documents layer's *send receipt* (transition, then the email with the PDF
    once the transaction commits), with the after-commit email run as a commit would."""
    from billing_site.documents.receipts import send_receipt as send

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return send(**kwargs)

    return run
