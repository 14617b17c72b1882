"""A payment link, made on the invoice page: its absolute URL to copy, and — when staff
ask — an email that takes it to the member.

The link is created in the action's transaction (``create_payment_link``, under the
invoice lock); the email is sent once that transaction has committed
(``transaction.on_commit``), so no row lock is held while the mail server is talked to.
Only an email that left marks the link *sent*: the admin's log records it on the link
("Emailed to …"), and the invoice page shows each link as sent or not.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ledger.money import format_money

from .. import services
from ..models import PaymentLink

SENT_PREFIX = "Emailed to "


@dataclass
class LinkResult:
    link: PaymentLink
    url: str
    to: str = ""
    sent: bool = False
    error: str = ""
    tried: bool = field(default=False)


def link_url(request, link: PaymentLink) -> str:
    """The absolute URL of a link, as the member will open it."""
    return request.build_absolute_uri(reverse("payment-link", args=[services.link_token(link)]))


def _message(link: PaymentLink, url: str) -> tuple[str, str]:
    invoice = link.invoice
    until = timezone.localtime(link.expires_at)
    subject = f"Pay invoice {invoice} — {format_money(invoice.amount_due)}"
    body = (
        f"Hello {invoice.account.name},\n\n"
        f"Invoice {invoice} has {format_money(invoice.amount_due)} to pay"
        + (f", due {invoice.due_date:%d %B %Y}" if invoice.due_date else "")
        + ".\n\n"
        f"You can pay it by card here:\n{url}\n\n"
        f"The link is for this invoice only and works until {until:%d %B %Y}.\n"
    )
    return subject, body


def _send(result: LinkResult, user) -> None:
    """After commit: send the email, then record that it left (or why it did not)."""
    result.tried = True
    subject, body = _message(result.link, result.url)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [result.to], fail_silently=False)
    except Exception as exc:  # the mail server refused or did not answer
        result.error = str(exc) or exc.__class__.__name__
        return
    result.sent = True
    LogEntry.objects.log_actions(
        user_id=user.pk,
        queryset=[result.link],
        action_flag=CHANGE,
        change_message=f"{SENT_PREFIX}{result.to}",
        single_object=True,
    )


def create_link(invoice, actor, data, request) -> LinkResult:
    """The action: create the link; queue the email to send after commit if asked."""
    link = services.create_payment_link(invoice=invoice.pk, actor=actor, days=data.get("days"))
    link = PaymentLink.objects.select_related("invoice", "invoice__account").get(pk=link.pk)
    result = LinkResult(link=link, url=link_url(request, link))
    if data.get("email"):
        result.to = data.get("to") or invoice.account.email
        user = request.user
        transaction.on_commit(lambda: _send(result, user))
    return result


def link_done(invoice, result: LinkResult) -> str:
    until = timezone.localtime(result.link.expires_at)
    text = f"Payment link for invoice {invoice}, valid until {until:%d %b %Y}: {result.url}"
    if result.sent:
        return f"{text} — emailed to {result.to}."
    if result.tried:
        return (
            f"{text} — NOT sent: the email to {result.to} failed ({result.error}). Copy the link."
        )
    return f"{text} — not emailed: copy it to the member."


def sent_to(links) -> dict[int, list[LogEntry]]:
    """For each link id, the log rows of the emails that left (one query)."""
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(PaymentLink)
    rows = LogEntry.objects.filter(
        content_type=content_type,
        object_id__in=[str(link.pk) for link in links],
        change_message__startswith=SENT_PREFIX,
    ).order_by("action_time")
    found: dict[int, list[LogEntry]] = {}
    for row in rows:
        found.setdefault(int(row.object_id), []).append(row)
    return found
