"""*Expire overdue waiting payments now* on the Payments list: what the scheduled
``manage.py expire_payments`` does, on demand, through the same service
(``expire_due_payments``: every waiting postpay payment past its due date, in batches
taken ``FOR UPDATE SKIP LOCKED``, each batch its own transaction, so it never waits for
a cron run doing the same).

Guarded by ``payments.cancel_payment``: expiring ends waiting payments the way cancelling
does, so whoever may cancel a payment (billing admins; not clerks or auditors) may run
it. A POST only; the button is shown only with the permission, and a forged POST without
it is a 403 in the admin's look."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse

from ledger.services import user_actor

from ..services import expire_due_payments

PERMISSION = "payments.cancel_payment"


def may_expire(user) -> bool:
    return user.has_perm(PERMISSION)


def expire_due_view(model_admin, request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not may_expire(request.user):
        raise PermissionDenied("You are not allowed to expire payments.")
    count = expire_due_payments(actor=user_actor(request.user))
    if count:
        text = f"{count} waiting payment{'s' if count != 1 else ''} past due expired."
    else:
        text = "No waiting payment was past its due date: nothing expired."
    model_admin.message_user(request, text, messages.SUCCESS)
    return HttpResponseRedirect(reverse("admin:payments_payment_changelist"))
