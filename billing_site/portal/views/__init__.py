"""Member-facing pages of the ledger app (issue 6): login, home, statement, invoices.

Every view reads its account through ``ledger.selectors.accounts_visible_to`` — never a
bare ``get(pk=)`` — so another member's id is a 404, whatever page or download it is.
"""
