"""Fixtures of the receivables suite: the back-office's staff clients and its check
that every ledger still verifies after each test, and the known history."""

import pytest

from tests.api.conftest import api, make_key  # noqa: F401  (fixtures)
from tests.backoffice.conftest import (  # noqa: F401  (fixtures)
    admin,
    auditor,
    billing_admin,
    boss,
    clerk,
    verified_ledger,
)

from . import history


@pytest.fixture
def known_history(actor):
    return history.build(actor)
