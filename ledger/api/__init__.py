"""The REST API's shared machinery (issue 5): money on the wire, API-key and session
authentication, scopes and account visibility, idempotent writes, one error shape,
cursor pagination. Resources live beside the services they call: ``ledger.api``
(accounts, groups, statements, invoice drafts), ``wallets.api``, ``payments.api``."""
