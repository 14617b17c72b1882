"""The transactional outbox: business events written in the same transaction as their
effect (``events.services.emit``), read by integrations (webhooks, the API's event list).

The lowest app of the import layers: every domain app may emit, so this app imports
none of them (its foreign keys are ``"ledger.Account"`` strings) and renders the objects
an event concerns through a registry the composition layer fills (``events.rendering``).
"""
