"""Fixtures for the member pages: two members, each with their own account, and the
known history of ``tests/members/history.py`` on the first member's account."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from ledger import services as ledger

from .history import build_history

PASSWORD = "member-pass-123"


@pytest.fixture
def make_user(db):
    def make(username, **kwargs):
        return get_user_model().objects.create_user(
            username=username, email=f"{username}@members.test", password=PASSWORD, **kwargs
        )

    return make


@pytest.fixture
def member(make_user):
    return make_user("alice", first_name="Alice")


@pytest.fixture
def other_member(make_user):
    """A member of another account (``other_account``)."""
    return make_user("mallory")


@pytest.fixture
def history(member):
    built = build_history(members=[member])
    yield built
    call_command("verify_ledger", verbosity=0)


@pytest.fixture
def other_account(other_member):
    return ledger.create_account(
        name="Other Member Ltd",
        email="other@members.test",
        currency="GBP",
        actor=ledger.system_actor("tests"),
        members=[other_member],
    )


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client
