from .alerts import AutoTopUp, AutoTopUpTrigger
from .memos import CreditMemo, CreditMemoReason, CreditMemoStatus
from .wallets import Hold, HoldStatus, TxKind, Wallet, WalletStatus, WalletTransaction

__all__ = [
    "AutoTopUp",
    "AutoTopUpTrigger",
    "CreditMemo",
    "CreditMemoReason",
    "CreditMemoStatus",
    "Hold",
    "HoldStatus",
    "TxKind",
    "Wallet",
    "WalletStatus",
    "WalletTransaction",
]
