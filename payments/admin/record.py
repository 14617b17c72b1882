"""Recording money received where staff look: on an account (its page and its payments
tab) and on an account group (its page, with a preview of the split before confirming).

Both pages are forms in the admin's look (``admin/billfold/page.html``) with the figures
staff decide on; the write is one ``transaction.atomic()`` around the service
(``record_payment`` / ``record_group_payment``); a refusal shows the form again with what
was typed and the service's words.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from ledger.admin.pages import crumbs
from ledger.errors import BillingError
from ledger.models import Account, AccountGroup
from ledger.money import format_money
from ledger.services import user_actor

from ..models.payments import PaymentMethod
from ..selectors import account_position, group_currency, group_payment_plan
from ..services import record_group_payment, record_payment
from .forms import GroupPaymentForm, RecordPaymentForm

RECORD_PERMISSION = "payments.mark_paid"


def _object_from_query(request, model, name: str):
    raw = request.GET.get(name, "")
    if not raw.isdigit():
        raise Http404(f"Say which {model._meta.verbose_name}: ?{name}=<id>.")
    found = model.objects.filter(pk=int(raw)).first()
    if found is None:
        raise Http404(f"No {model._meta.verbose_name} with id {raw}.")
    return found


def _check_permission(request) -> None:
    if not request.user.has_perm(RECORD_PERMISSION):
        raise PermissionDenied("You are not allowed to record payments.")


def _page(model_admin, request, template: str, context: dict):
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(
        request,
        template,
        {**model_admin.admin_site.each_context(request), "media": model_admin.media, **context},
    )


def _account_figures(account: Account) -> list[tuple[str, object]]:
    position = account_position(account)
    return [
        ("Account", f"{account.name} — {account.currency}"),
        ("Ledger balance", position.balance),
        ("Owed on open invoices", position.owed),
        ("Of which overdue", position.overdue),
        ("Credit free to use", position.free_credit),
    ]


def record_payment_view(model_admin, request):
    """Money received without an invoice: a completed payment whose ``PAYM`` credit stays
    on the account until it is assigned to invoices (or pays the next one at issue)."""
    _check_permission(request)
    account = _object_from_query(request, Account, "account")
    form = RecordPaymentForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                payment = record_payment(
                    account=account.pk,
                    amount=str(data["amount"]),
                    method=data["method"],
                    actor=user_actor(request.user),
                    reference=data["reference"],
                    note=data["note"],
                    at=form.at,
                )
        except BillingError as exc:
            form.add_error(None, exc.detail)
        else:
            method = PaymentMethod(payment.method).label.lower()
            model_admin.message_user(
                request,
                f"Payment {payment.number} recorded: {format_money(payment.amount)} by {method}, "
                f"received {data['received_on']:%d %b %Y}; it is on the account as credit.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:ledger_account_payments", args=[account.pk]))
    title = "Record a payment received"
    return _page(
        model_admin,
        request,
        "admin/payments/payment/record.html",
        {
            "title": f"{title}: {account.name}",
            "opts": Account._meta,
            "crumbs": crumbs(Account._meta, account, (title, None)),
            "original": account,
            "form": form,
            "figures": _account_figures(account),
            "back_url": reverse("admin:ledger_account_payments", args=[account.pk]),
        },
    )


def _group_done(request, model_admin, batch) -> HttpResponseRedirect:
    shares = ", ".join(
        f"{p.account.name} {format_money(p.amount)}"
        for p in batch.payments.select_related("account").order_by("account__name", "id")
    )
    model_admin.message_user(
        request,
        f"Group payment of {format_money(batch.amount)} recorded for {batch.group}: {shares}.",
        messages.SUCCESS,
    )
    return HttpResponseRedirect(reverse("admin:ledger_accountgroup_change", args=[batch.group_id]))


def _record_group(request, form, group):
    data = form.cleaned_data
    with transaction.atomic():
        return record_group_payment(
            group=group.pk,
            amount=str(data["amount"]),
            method=data["method"],
            actor=user_actor(request.user),
            leftover_account=data["leftover_account"].pk,
            reference=data["reference"],
            at=form.at,
        )


def group_payment_view(model_admin, request):
    """A payment for an account group: the form, then the preview of how it will be
    split (oldest due first, per account, the leftover's account), then confirm."""
    _check_permission(request)
    group = _object_from_query(request, AccountGroup, "group")
    _currency, problem = group_currency(group)
    form = GroupPaymentForm(request.POST or None, group=group)
    plan = None
    if request.method == "POST" and not problem and form.is_valid():
        data = form.cleaned_data
        if "confirm" in request.POST:
            try:
                batch = _record_group(request, form, group)
            except BillingError as exc:
                form.add_error(None, exc.detail)
            else:
                return _group_done(request, model_admin, batch)
        if "edit" not in request.POST:
            plan = group_payment_plan(group, str(data["amount"]), data["leftover_account"])
    title = "Record a group payment"
    return _page(
        model_admin,
        request,
        "admin/payments/paymentbatch/record.html",
        {
            "title": f"{title}: {group}",
            "opts": AccountGroup._meta,
            "crumbs": crumbs(AccountGroup._meta, group, (title, None)),
            "original": group,
            "group": group,
            "form": form,
            "problem": problem,
            "plan": plan,
            "preview": plan is not None,
            "method_label": PaymentMethod(form.cleaned_data["method"]).label if plan else "",
            "accounts": group.accounts.order_by("name", "id"),
            "back_url": reverse("admin:ledger_accountgroup_change", args=[group.pk]),
        },
    )
