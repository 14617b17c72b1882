"""The hot-path statements (one posting, one usage drawdown) are prepared on the
server (``ledger.prepared``): Django opens connections with psycopg's preparation off,
which silently ignores ``prepare=True``; this checks it took."""

import pytest
from django.db import connection
from moneyed import Money

from ledger import services
from ledger.services import Posting

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_posting_and_drawdown_statements_are_prepared(account, actor):
    from wallets import services as wallets

    for n in range(2):
        services.post(
            account=account,
            postings=[Posting(kind="PAYM", amount=Money("1.00", "GBP"), reference=f"P{n}")],
            actor=actor,
        )
    wallet = wallets.create_wallet(account=account, name="W", actor=actor)
    wallets.top_up(wallet=wallet, amount="10.00", actor=actor, grant=True)
    wallets.usage_drawdown(wallet=wallet, amount=Money("1.00", "GBP"), reference="u", actor=actor)
    statements = prepared_statements()
    assert any("INSERT INTO ledger_ledgerentry" in s for s in statements), statements
    assert any("INSERT INTO wallets_wallettransaction" in s for s in statements), statements
    # Django's own queries stay unprepared (client-side binding).
    assert not any("django_content_type" in s for s in statements)
