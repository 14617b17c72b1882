"""The billing run in the admin, through its URLs on PostgreSQL with each request
committing (the work task runs on the test settings' immediate backend, after the
start commits): *Close billing period* starts a run and its page shows exact counts,
amounts and failures; a day not passed yet is a form error in the service's words; a
clerk is refused (403 in the admin's look); *Add a worker* resumes a stopped run; the
list's queries do not grow with the runs; the Invoices list shows what the next run
will issue, and an issued invoice's page which run issued it."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from payments import services as pay
from payments.models import BillingRun
from payments.roles import BILLING_ADMIN, BILLING_CLERK, ensure_roles
from payments.selectors.billing_runs import run_counts
from payments.services import billing_runs as runs
from tests.composition.admin_pages import page_errors, succeeded, superuser_client

from .conftest import assert_gapless, assert_issued_once, fresh, today, verify

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D = Decimal
LIST = "admin:payments_billingrun_changelist"
CLOSE = "admin:payments_billingrun_close"


@pytest.fixture
def admin():
    return superuser_client()


def staff(role: str) -> Client:
    ensure_roles()  # a transactional test's flush removed the groups the migrations made
    user = get_user_model().objects.create_user(username=role, password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def cell(html: str, css: str) -> str:
    found = re.search(rf'class="{css}"[^>]*>(.*?)</td>', html, re.S)
    assert found, css
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def page(client, run) -> str:
    response = client.get(reverse("admin:payments_billingrun_change", args=[run.pk]))
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_close_billing_period_then_the_run_page_shows_what_it_did(
    admin, make_account, make_ongoing, held
):
    plain = make_ongoing(make_account(), "120.00", "30.00")
    with_hold = make_ongoing(make_account(), "80.00")
    held(with_hold, grant="50.00")
    bad = make_ongoing(make_account(name="Refused Ltd"), "0.00")  # refused: nothing to charge
    running = make_ongoing(make_account(), "10.00", period=(today(), today() + timedelta(29)))
    listing = admin.get(reverse(LIST)).content.decode()
    assert "billfold-action-close_period" in listing
    yesterday = (today() - timedelta(days=1)).isoformat()
    assert f'value="{yesterday}"' in listing  # the default day

    done = succeeded(admin, admin.post(reverse(CLOSE), {"through": yesterday}))
    run = BillingRun.objects.get()
    assert done.text() == [f"{run} started: 3 invoice(s) to issue."]
    assert done.url == reverse("admin:payments_billingrun_change", args=[run.pk])
    assert (fresh(run).status, run.through, run.actor_label) == (
        "finished",
        today() - timedelta(1),
        "boss",
    )

    html = page(admin, run)
    counts = [
        cell(html, f"billfold-count-{s}")
        for s in ("total", "issued", "failed", "skipped", "pending")
    ]
    assert counts == ["3", "2", "1", "0", "0"]
    gbp = re.search(r'<tr class="billfold-amounts-GBP">(.*?)</tr>', html, re.S).group(1)
    assert [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", gbp)] == [
        "GBP", "2", "£230.00", "£50.00", "£0.00", "£180.00", "0",
    ]  # fmt: skip
    reason = f"{bad} has nothing to charge (total £0.00); add lines or cancel it."
    assert f'<td class="billfold-failure-reason">{reason}</td>' in html
    assert reverse("admin:ledger_invoice_change", args=[bad.pk]) in html
    assert "Refused Ltd" in html and "billfold-action-add_worker" not in html  # finished
    assert_issued_once([plain, with_hold])
    assert fresh(bad).status == "ongoing" and fresh(running).status == "ongoing"

    failed = admin.get(
        reverse("admin:payments_billingrunitem_changelist"),
        {"run__id__exact": run.pk, "status__exact": "failed"},
    )
    assert failed.status_code == 200
    assert reverse("admin:ledger_invoice_change", args=[bad.pk]) in failed.content.decode()
    assert reverse("admin:ledger_invoice_change", args=[plain.pk]) not in failed.content.decode()

    invoice_page = admin.get(
        reverse("admin:ledger_invoice_change", args=[plain.pk])
    ).content.decode()
    assert f'Issued by <a href="{done.url}">{run}</a>' in invoice_page
    assert_gapless()
    verify()


def test_a_day_not_passed_is_a_form_error_in_the_services_words(admin, make_account, make_ongoing):
    make_ongoing(make_account(), "10.00")
    response = admin.post(reverse(CLOSE), {"through": today().isoformat()})
    assert response.status_code == 200
    yesterday = (today() - timedelta(days=1)).isoformat()
    assert page_errors(response) == [
        f"through: {today().isoformat()} has not passed yet; a run closes periods that ended "
        f"on or before yesterday ({yesterday})."
    ]
    assert admin.post(reverse(CLOSE), {"through": "31/02/2026"}).status_code == 200
    assert not BillingRun.objects.exists()


def test_a_clerk_sees_runs_but_cannot_start_or_resume_one(make_account, make_ongoing, actor):
    invoice = make_ongoing(make_account(), "10.00")
    run = runs.start_run(actor=actor)  # running, no worker
    clerk = staff(BILLING_CLERK)
    assert clerk.get(reverse(LIST)).status_code == 200
    assert "billfold-action-close_period" not in clerk.get(reverse(LIST)).content.decode()
    assert "billfold-action-add_worker" not in page(clerk, run)
    yesterday = (today() - timedelta(days=1)).isoformat()
    for url in (reverse(CLOSE), reverse("admin:payments_billingrun_work", args=[run.pk])):
        refused = clerk.post(url, {"through": yesterday})
        assert refused.status_code == 403
        assert "billfold-refused" in refused.content.decode()  # the admin's look
        assert "not allowed to run the billing run" in refused.content.decode()
    assert fresh(invoice).status == "ongoing" and run_counts(run).pending == 1
    assert BillingRun.objects.count() == 1
    # A billing admin may (the roles give them the run's permissions).
    billing_admin = staff(BILLING_ADMIN)
    assert "billfold-action-add_worker" in page(billing_admin, run)


def test_add_a_worker_resumes_a_stopped_run(admin, make_account, make_ongoing, actor):
    invoices = [make_ongoing(make_account(), "10.00") for _ in range(4)]
    run = runs.start_run(actor=actor)  # its worker never came (a crash, a deploy)
    pay.issue_invoice(invoice=invoices[0], actor=actor)  # by hand, meanwhile
    html = page(admin, run)
    assert "billfold-action-add_worker" in html and "0 of 4 processed (0%)" in html
    work = reverse("admin:payments_billingrun_work", args=[run.pk])
    assert admin.get(work).status_code == 405
    done = succeeded(admin, admin.post(work))
    assert done.text() == [f"Another worker is on {run}: 4 invoice(s) were left to issue."]
    assert fresh(run).status == "finished"
    assert_issued_once(invoices)
    html = page(admin, run)
    counts = [cell(html, f"billfold-count-{s}") for s in ("issued", "skipped", "pending")]
    assert counts == ["3", "1", "0"]  # the one issued by hand: skipped, not issued twice
    assert "billfold-action-add_worker" not in html and "processed (" not in html
    again = succeeded(admin, admin.post(work), level=30)  # WARNING
    assert again.text(level=30) == [f"{run} has finished: nothing to resume."]
    # Close again while nothing is running: a new run, empty.
    done = succeeded(
        admin, admin.post(reverse(CLOSE), {"through": (today() - timedelta(1)).isoformat()})
    )
    assert BillingRun.objects.count() == 2 and "0 invoice(s) to issue" in done.text()[0]
    verify()


def test_closing_while_a_run_runs_joins_it(admin, make_account, make_ongoing, actor):
    invoice = make_ongoing(
        make_account(), "10.00", period=(today() - timedelta(33), today() - timedelta(3))
    )
    run = runs.start_run(through=today() - timedelta(days=2), actor=actor)
    done = succeeded(
        admin, admin.post(reverse(CLOSE), {"through": (today() - timedelta(1)).isoformat()})
    )
    assert BillingRun.objects.count() == 1 and fresh(run).status == "finished"
    assert done.text()[0].startswith(f"{run} was running already: it goes on")
    assert_issued_once([invoice])


def test_the_lists_queries_do_not_grow_with_the_runs(admin, make_account, make_ongoing, actor):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin.get(reverse(LIST)).status_code == 200
        return len(captured)

    for _ in range(2):
        make_ongoing(make_account(), "10.00")
        runs.close_period(actor=actor)
    few = queries()
    for _ in range(5):
        make_ongoing(make_account(), "10.00")
        make_ongoing(make_account(), "10.00")
        runs.close_period(actor=actor)
    assert queries() == few
    html = admin.get(reverse(LIST)).content.decode()
    assert html.count("billfold-status-finished") == 7
    items = reverse("admin:payments_billingrunitem_changelist")
    assert (
        f'{items}?run__id__exact={BillingRun.objects.first().pk}&amp;status__exact=issued">2<'
        in html
    )


def test_the_invoices_list_shows_what_the_next_run_issues(admin, make_account, make_ongoing):
    ended = make_ongoing(make_account(), "10.00")
    running = make_ongoing(make_account(), "10.00", period=(today(), today() + timedelta(29)))
    url = reverse("admin:ledger_invoice_changelist")
    html = admin.get(url, {"period": "ended"}).content.decode()
    assert "ended (waiting for the billing run)" in html
    assert f"#{ended.pk} (no number yet)" in html and f"#{running.pk} (" not in html
    html = admin.get(url, {"period": "running"}).content.decode()
    assert f"#{running.pk} (no number yet)" in html and f"#{ended.pk} (" not in html
    draft_page = admin.get(reverse("admin:ledger_invoice_change", args=[ended.pk])).content.decode()
    assert "the billing run issues it once the period's last day has passed" in draft_page
