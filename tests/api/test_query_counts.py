"""List endpoints run a constant number of queries whatever the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger import services as ledger
from ledger.models import Account
from payments import services as pay
from wallets import services as wallets

from .conftest import Api
from .factories import ACTOR, side

pytestmark = pytest.mark.django_db


def queries(api, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path, {"limit": 200})
    assert response.status_code == 200, response.data
    return len(captured.captured_queries)


def grow(n: int):
    for i in range(n):
        s = side(f"Side{i}-{Account.objects.count()}")
        ledger.create_group(name=f"G{i}-{s.account.pk}", actor=ACTOR)


def paths():
    account = Account.objects.order_by("pk").first()
    wallet = account.wallets.first()
    return [
        "/api/v1/accounts/",
        "/api/v1/account-groups/",
        "/api/v1/invoices/",
        "/api/v1/payments/",
        "/api/v1/wallets/",
        "/api/v1/credit-memos/",
        f"/api/v1/accounts/{account.pk}/statement/",
        f"/api/v1/wallets/{wallet.pk}/transactions/",
        f"/api/v1/wallets/{wallet.pk}/holds/",
    ]


@pytest.mark.parametrize("restricted", [False, True], ids=["all", "restricted key"])
def test_list_query_counts_do_not_grow_with_rows(api, make_key, restricted):
    grow(1)
    first_account = Account.objects.order_by("pk").first()
    if restricted:
        _key, raw = make_key("restricted", groups=[first_account.group])
        api = Api(raw)
    api.get("/api/v1/accounts/")  # the key's last_used_at is written at most once a minute
    small = {p: queries(api, p) for p in paths()}
    grow(3)
    for _ in range(3):  # more rows in the first account's statement and wallet too
        pay.record_payment(account=first_account, amount="1.00", method="cash", actor=ACTOR)
        wallets.top_up(wallet=first_account.wallets.first(), amount="1", actor=ACTOR, grant=True)
    large = {p: queries(api, p) for p in paths()}
    assert large == small
