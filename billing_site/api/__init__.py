"""The REST API under /api/v1/ (one package): API keys and their idempotency records
(``models``), authentication and scopes (``auth``, ``permissions``), idempotent writes,
one error shape, cursor pagination, the schema, the money field, and one module per
resource (accounts and groups, statements, invoices, payments, wallets, credit memos,
gateway webhooks). Thin: parse, call a domain service, render."""
