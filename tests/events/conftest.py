"""Fixtures for the outbox tests: the API client of tests/api and a small world."""

import pytest

from events.models import Event
from tests.api.conftest import Api, make_key  # noqa: F401 - fixtures reused
from tests.api.factories import ACTOR, invoice

__all__ = ["ACTOR", "Api", "invoice"]


@pytest.fixture
def api(make_key):  # noqa: F811
    key, raw = make_key("events")
    client = Api(raw)
    client.key = key
    return client


def events_of(account, *types) -> list[Event]:
    rows = Event.objects.filter(account=account).order_by("seq")
    return [e for e in rows if not types or e.type in types]


def only(account, type_) -> Event:
    found = events_of(account, type_)
    assert len(found) == 1, f"expected one {type_}, got {[e.type for e in events_of(account)]}"
    return found[0]
