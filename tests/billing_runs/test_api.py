"""The billing run over the API, through the URL on PostgreSQL with each request
committing (the worker runs on the test settings' immediate backend once the start has
committed): start (202, idempotent), read a run (counts, amounts per currency as
strings), list, a run's items by status; refusals that change nothing."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing_site.api.models import ApiKey
from payments.models import BillingRun
from payments.services import billing_runs as runs
from tests.api.conftest import Api

from .conftest import assert_gapless, assert_issued_once, fresh, today, verify

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

URL = "/api/v1/billing-runs/"


def client(name="integration", **kwargs) -> Api:
    _key, raw = ApiKey.create_with_key(name=name, **kwargs)
    return Api(raw)


@pytest.fixture
def api():
    return client()


def gbp(amount: str) -> dict:
    return {"amount": amount, "currency": "GBP"}


def test_start_then_read_the_run_its_amounts_and_failures(api, make_account, make_ongoing, held):
    plain = make_ongoing(make_account(), "120.00", "30.00")
    with_hold = make_ongoing(make_account(), "80.00")
    held(with_hold, grant="50.00")
    bad = make_ongoing(make_account(), "0.00")  # refused: nothing to charge
    started = api.post(URL, {}, idem="close-1")
    assert started.status_code == 202, started.data
    run = BillingRun.objects.get()
    yesterday = (today() - timedelta(days=1)).isoformat()
    assert {k: started.data[k] for k in ("id", "through", "status", "started_by", "counts")} == {
        "id": run.pk,
        "through": yesterday,
        "status": "running",  # as it was answered; the worker ran after the commit
        "started_by": "api:integration",
        "counts": {"total": 3, "pending": 3, "issued": 0, "failed": 0, "skipped": 0},
    }
    replay = api.post(URL, {}, idem="close-1")
    assert (replay.status_code, replay.data) == (202, started.data)
    assert replay["Idempotent-Replayed"] == "true" and BillingRun.objects.count() == 1

    detail = api.get(f"{URL}{run.pk}/")
    assert detail.status_code == 200
    assert (detail.data["status"], detail.data["counts"]) == (
        "finished",
        {"total": 3, "pending": 0, "issued": 2, "failed": 1, "skipped": 0},
    )
    assert detail.data["finished_at"]
    assert detail.data["amounts"] == [
        {
            "currency": "GBP",
            "invoices": 2,
            "total": gbp("230.00"),
            "captured": gbp("50.00"),
            "credit_applied": gbp("0.00"),
            "waiting": gbp("180.00"),
            "direct_debits": 0,
        }
    ]
    listed = api.get(URL)
    assert listed.status_code == 200
    [row] = listed.data["results"]
    assert row["id"] == run.pk and row["counts"] == detail.data["counts"]
    assert "amounts" not in row

    failed = api.get(f"{URL}{run.pk}/items/", {"status": "failed"})
    assert failed.status_code == 200
    [item] = failed.data["results"]
    assert (item["invoice"], item["status"], item["reason"], item["invoice_number"]) == (
        bad.pk,
        "failed",
        f"{bad} has nothing to charge (total £0.00); add lines or cancel it.",
        None,
    )
    issued = api.get(f"{URL}{run.pk}/items/", {"status": "issued"}).data["results"]
    assert sorted(i["invoice"] for i in issued) == sorted([plain.pk, with_hold.pk])
    by_invoice = {i["invoice"]: i for i in issued}
    assert by_invoice[with_hold.pk]["captured"] == gbp("50.00")
    assert by_invoice[plain.pk]["invoice_number"] == fresh(plain).number
    assert len(api.get(f"{URL}{run.pk}/items/").data["results"]) == 3
    assert_issued_once([plain, with_hold])
    assert_gapless()
    verify()


def test_a_start_while_a_run_runs_joins_it(api, make_account, make_ongoing, actor):
    invoice = make_ongoing(
        make_account(), "10.00", period=(today() - timedelta(35), today() - timedelta(5))
    )
    later = make_ongoing(make_account(), "10.00")  # ended yesterday
    run = runs.start_run(through=today() - timedelta(days=3), actor=actor)  # no worker
    joined = api.post(URL, {"through": (today() - timedelta(days=1)).isoformat()})
    assert joined.status_code == 202
    assert (joined.data["id"], joined.data["through"]) == (run.pk, run.through.isoformat())
    assert fresh(run).status == "finished" and BillingRun.objects.count() == 1
    assert_issued_once([invoice])
    assert fresh(later).status == "ongoing"  # the run keeps its own day: the next run


def test_refusals_change_nothing(api, make_account, make_ongoing):
    account = make_account()
    invoice = make_ongoing(account, "10.00")
    not_passed = api.post(URL, {"through": today().isoformat()})
    assert (not_passed.status_code, not_passed.data["field"]) == (422, "through")
    assert "has not passed yet" in not_passed.data["detail"]
    bad = api.post(URL, {"through": "31/12/2026"})
    assert (bad.status_code, bad.data["field"]) == (422, "through")
    assert not BillingRun.objects.exists()

    restricted = client("restricted", accounts=[account])
    for refused in (restricted.post(URL, {}), restricted.get(URL)):
        assert (refused.status_code, refused.data["error"]) == (403, "forbidden")
        assert "covers every account" in refused.data["detail"]
    reader = client("reader", scopes=["read"])
    no_scope = reader.post(URL, {})
    assert no_scope.status_code == 403 and "'write' scope" in no_scope.data["detail"]
    assert reader.get(URL).status_code == 200
    assert not BillingRun.objects.exists() and fresh(invoice).status == "ongoing"

    started = api.post(URL, {}, idem="k-1")
    assert started.status_code == 202
    reused = api.post(URL, {"through": (today() - timedelta(days=2)).isoformat()}, idem="k-1")
    assert (reused.status_code, reused.data["error"]) == (422, "idempotency_key_reused")
    run_id = started.data["id"]
    wrong = api.get(f"{URL}{run_id}/items/", {"status": "lost"})
    assert (wrong.status_code, wrong.data["field"]) == (422, "status")
    assert "one of pending, issued, failed, skipped" in wrong.data["detail"]
    assert api.get(f"{URL}{run_id + 99}/").status_code == 404
    assert api.get(f"{URL}{run_id + 99}/items/").status_code == 404
    assert BillingRun.objects.count() == 1
    verify()


def test_the_lists_queries_do_not_grow_with_the_runs(api, make_account, make_ongoing, actor):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(URL).status_code == 200
        return len(captured)

    make_ongoing(make_account(), "10.00")
    runs.close_period(actor=actor)
    queries()  # the key's first use writes its own rows
    few = queries()
    for _ in range(4):
        make_ongoing(make_account(), "10.00")
        make_ongoing(make_account(), "0.00")  # fails: nothing to charge
        runs.close_period(actor=actor)
    assert queries() == few
    rows = api.get(URL).data["results"]
    assert [r["counts"] for r in rows[:2]] == [  # each run retries the earlier failures
        {"total": 5, "pending": 0, "issued": 1, "failed": 4, "skipped": 0},
        {"total": 4, "pending": 0, "issued": 1, "failed": 3, "skipped": 0},
    ]
    assert rows[-1]["counts"] == {"total": 1, "pending": 0, "issued": 1, "failed": 0, "skipped": 0}
