"""Reads of the wallets app."""

from ledger.keyset import SeqPage, seq_page

from .models import Wallet

TRANSACTIONS_PER_PAGE = 50


def transactions_page(
    wallet: Wallet,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = TRANSACTIONS_PER_PAGE,
) -> SeqPage:
    """One page of the wallet's movements, newest first (``ledger.keyset``): one index
    range scan on ``(wallet, seq)``, each row carrying the balances stored after it."""
    return seq_page(
        wallet.transactions.all(),
        before=before,
        after=after,
        size=limit,
        first=1,
        last=wallet.last_seq,
    )
