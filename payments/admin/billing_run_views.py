"""The billing run's admin writes and its page's figures (``billing_runs`` registers
them): *Close billing period* starts a run through the day given (yesterday by
default; the service's ``clean_through`` refuses a day not passed yet, in its words, as
the form's error) or joins the one running, then enqueues a worker
(``payments.tasks.work_billing_run``) once the start has committed; *Add a worker* /
*Resume* enqueues another worker of a running run.

Guarded by ``payments.add_billingrun``: billing admins (not clerks or auditors). POST
only; the buttons are shown only with the permission, and a forged POST without it is
a 403 in the admin's look."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from ledger.admin.pages import crumbs
from ledger.errors import BillingError
from ledger.services import user_actor

from ..models import BillingRun, BillingRunItem, ItemStatus, RunStatus
from ..selectors.billing_runs import run_amounts, run_counts, running_run
from ..services.billing_runs import clean_through, start_run
from ..tasks import enqueue_billing_run

PERMISSION = "payments.add_billingrun"
FAILURES_SHOWN = 50


def may_run(user) -> bool:
    return user.has_perm(PERMISSION)


class CloseForm(forms.Form):
    through = forms.DateField(
        label="Through",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The last period day to close: ongoing invoices whose billing period "
        "ended on or before it are issued.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["through"].initial = timezone.localdate() - timedelta(days=1)

    def clean_through(self):
        try:
            return clean_through(self.cleaned_data["through"])
        except BillingError as exc:
            raise forms.ValidationError(exc.detail) from None


def _refuse_without_permission(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not may_run(request.user):
        raise PermissionDenied("You are not allowed to run the billing run.")
    return None


def close_view(model_admin, request):
    """GET: the form alone; POST: start (or join) the run and enqueue its worker."""
    if request.method == "POST":
        refused = _refuse_without_permission(request)
        if refused is not None:
            return refused
        form = CloseForm(request.POST)
        if form.is_valid():
            return _start(model_admin, request, form.cleaned_data["through"])
    else:
        if not may_run(request.user):
            raise PermissionDenied("You are not allowed to run the billing run.")
        form = CloseForm()
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "title": "Close billing period",
        "form": form,
        "crumbs": crumbs(opts, None, ("Close billing period", None)),
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/payments/billingrun/close.html", context)


def _start(model_admin, request, through):
    running_before = running_run()
    try:
        run = start_run(through=through, actor=user_actor(request.user))
    except BillingError as exc:
        model_admin.message_user(request, f"Nothing was started: {exc.detail}", messages.ERROR)
        return HttpResponseRedirect(reverse("admin:payments_billingrun_changelist"))
    counts = run_counts(run)
    enqueue_billing_run(run.pk)
    if running_before is not None and running_before.pk == run.pk:
        text = (
            f"{run} was running already: it goes on (through its own day, "
            f"{run.through:%d %b %Y}) with another worker; {counts.pending:,} invoice(s) "
            "left to issue."
        )
    else:
        text = f"{run} started: {counts.total:,} invoice(s) to issue."
    model_admin.message_user(request, text, messages.SUCCESS)
    return HttpResponseRedirect(reverse("admin:payments_billingrun_change", args=[run.pk]))


def work_view(model_admin, request, run_id):
    """*Add a worker* / *Resume*: another worker of the running run."""
    refused = _refuse_without_permission(request)
    if refused is not None:
        return refused
    run = get_object_or_404(BillingRun, pk=run_id)
    back = HttpResponseRedirect(reverse("admin:payments_billingrun_change", args=[run.pk]))
    if run.status != RunStatus.RUNNING:
        model_admin.message_user(
            request, f"{run} has finished: nothing to resume.", messages.WARNING
        )
        return back
    pending = run_counts(run).pending
    enqueue_billing_run(run.pk)
    model_admin.message_user(
        request,
        f"Another worker is on {run}: {pending:,} invoice(s) were left to issue.",
        messages.SUCCESS,
    )
    return back


def run_page_context(request, run: BillingRun) -> dict:
    """The run page's figures: counts (one query), amounts per currency (one query), the
    first failures with their invoices (one query)."""
    counts = run_counts(run)
    failures = list(
        BillingRunItem.objects.filter(run=run, status=ItemStatus.FAILED)
        .select_related("invoice", "account")
        .order_by("id")[: FAILURES_SHOWN + 1]
    )
    running = run.status == RunStatus.RUNNING
    return {
        "run": run,
        "counts": counts,
        "percent": (counts.done * 100 // counts.total) if counts.total else 100,
        "running": running,
        "amounts": run_amounts(run),
        "failures": failures[:FAILURES_SHOWN],
        "more_failures": len(failures) > FAILURES_SHOWN,
        "may_run": running and may_run(request.user),
        "crumbs": crumbs(run._meta, None, (str(run), None)),
    }
