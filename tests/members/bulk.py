"""Long histories, fast: one ``INSERT ... SELECT`` over a recursive CTE (works on
PostgreSQL and SQLite) in a closed form that is a consistent ledger.

Entry s (1-based) of pair k = (s + 1) / 2: odd s is an ``INVC`` debit of 3.00, even s a
``PAYM`` credit of 2.00, so ``balance_after(2k-1) = -k - 2`` and ``balance_after(2k) = -k``.
Every entry is posted at the same instant (seq order and time order agree). The
append-only trigger refuses only UPDATE/DELETE, so the rows go through the real table,
constraints and indexes; the account row is then moved to the last entry, as the
posting service would have left it (``verify_ledger`` agrees).
"""

from datetime import UTC, datetime
from decimal import Decimal

from django.db import connection, transaction

from ledger.models import Account

SQL = """
WITH RECURSIVE g(s) AS (SELECT 1 UNION ALL SELECT s + 1 FROM g WHERE s < %s)
INSERT INTO ledger_ledgerentry (
    account_id, seq, posted_at, kind, reference, description, currency,
    debit, credit, balance_after, method, actor_label
)
SELECT
    %s, s, %s,
    CASE WHEN s %% 2 = 1 THEN 'INVC' ELSE 'PAYM' END,
    CASE WHEN s %% 2 = 1 THEN 'BULK-I-' ELSE 'BULK-P-' END || s,
    'Bulk entry',
    %s,
    CASE WHEN s %% 2 = 1 THEN 3 ELSE 0 END,
    CASE WHEN s %% 2 = 1 THEN 0 ELSE 2 END,
    CASE WHEN s %% 2 = 1 THEN -((s + 1) / 2) - 2 ELSE -(s / 2) END,
    CASE WHEN s %% 2 = 1 THEN '' ELSE 'bank_transfer' END,
    'system:tests'
FROM g
"""

WHEN = datetime(2026, 1, 1, 9, tzinfo=UTC)


def balance_after(seq: int) -> Decimal:
    k = (seq + 1) // 2
    return Decimal(-k - 2 if seq % 2 else -k)


def bulk_entries(account: Account, n: int) -> Account:
    """Give an account with no entries ``n`` of them."""
    assert account.last_seq == 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(SQL, [n, account.pk, WHEN, account.currency])
    Account.objects.filter(pk=account.pk).update(
        balance=balance_after(n), last_seq=n, last_posted_at=WHEN
    )
    account.refresh_from_db()
    return account
