"""The daily job ``payments.tasks.close_billing_periods``: a run through yesterday when an
ongoing invoice's period has ended, the running run resumed, no empty run otherwise."""

from datetime import timedelta

import pytest

from payments.models import BillingRun
from payments.services import billing_runs as runs
from payments.tasks import close_billing_periods

from .conftest import assert_issued_once, fresh, today


@pytest.mark.django_db(transaction=True)
def test_no_period_ended_no_run(make_account, make_ongoing):
    running = make_ongoing(make_account(), "10.00", period=(today(), today() + timedelta(29)))
    assert close_billing_periods.call() == 0
    assert not BillingRun.objects.exists()
    assert fresh(running).status == "ongoing"


@pytest.mark.django_db(transaction=True)
def test_an_ended_period_starts_a_run_through_yesterday(make_account, make_ongoing):
    ended = [make_ongoing(make_account(), "10.00") for _ in range(3)]
    assert close_billing_periods.call() == 3
    run = BillingRun.objects.get()
    assert (run.status, run.through, run.actor_label) == (
        "finished",
        today() - timedelta(days=1),
        "system:close_billing_periods",
    )
    assert_issued_once(ended)
    assert close_billing_periods.call() == 0  # the next day: nothing left, no empty run
    assert BillingRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_running_run_is_resumed(make_account, make_ongoing, actor):
    first = make_ongoing(make_account(), "10.00")
    run = runs.start_run(actor=actor)  # started, its worker gone
    assert close_billing_periods.call() == 1
    assert fresh(run).status == "finished" and BillingRun.objects.count() == 1
    assert_issued_once([first])
