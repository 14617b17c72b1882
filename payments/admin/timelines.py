"""What the invoice and payment pages show besides their fields: the timeline in words
(also their *History* page, in place of Django's list of admin edits, which it
includes), an invoice's payment links (absolute URL to copy, sent or not) and the
wallet holds on it."""

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from ledger.admin.pages import crumbs
from wallets.models import Hold, HoldStatus

from ..models import PaymentLink, Reminder, ReminderStatus
from .link_email import link_url, sent_to


class TimelineHistoryMixin:
    """``history_view`` shows ``self.timeline(obj)``: every record the services wrote
    about the object, in words, oldest first."""

    timeline = None  # (obj) -> list[payments.selectors.Event]

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with id {object_id}.")
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"History of {obj}",
            "opts": self.opts,
            "original": obj,
            "crumbs": crumbs(self.opts, obj, ("History", None)),
            "events": self.timeline(obj),
            "back_url": reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk]
            ),
            "media": self.media,
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/billfold/timeline.html", context)


def invoice_links(request, invoice) -> list[dict]:
    """The invoice's payment links, newest first, each with its absolute URL to copy
    and whether an email took it to the member."""
    links = list(PaymentLink.objects.filter(invoice=invoice).order_by("-created_at", "-id"))
    emails = {pk: [row.change_message for row in rows] for pk, rows in sent_to(links).items()}
    reminders = (
        Reminder.objects.filter(link__in=links, status=ReminderStatus.SENT)
        .select_related("level")
        .order_by("sent_at", "id")
    )
    for reminder in reminders if links else ():  # a reminder's email carries its link too
        at = timezone.localtime(reminder.sent_at)
        emails.setdefault(reminder.link_id, []).append(
            f"Sent to {reminder.sent_to} with the reminder '{reminder.level.name}' "
            f"({at.day} {at:%b %Y %H:%M})"
        )
    rows = []
    for link in links:
        sent = emails.get(link.pk, [])
        state = link.state  # the model says "sent" for any link not opened yet
        if state == "sent" and not sent:
            state = "not sent"
        rows.append({"link": link, "url": link_url(request, link), "state": state, "emails": sent})
    return rows


def invoice_page_context(request, invoice) -> dict:
    holds = (
        Hold.objects.filter(invoice=invoice, status=HoldStatus.ACTIVE)
        .select_related("wallet")
        .order_by("wallet__name", "id")
    )
    from ..selectors import invoice_timeline

    return {
        "events": invoice_timeline(invoice),
        "payment_links": invoice_links(request, invoice),
        "holds": list(holds),
    }
