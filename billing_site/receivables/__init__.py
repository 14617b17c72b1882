"""Receivables (issue 15): the finance overview as the admin's home, the aged
receivables report (page, CSV, PDF) and their API. A composition app: it reads the
domain apps' selectors (``payments.selectors.aging`` / ``overview``) and writes nothing."""
