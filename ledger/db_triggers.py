"""The append-only guards live at the bottom of the layers (``events.db_triggers``, so
that the events app can use them too); the ledger's migrations import them from here."""

from events.db_triggers import append_only

__all__ = ["append_only"]
