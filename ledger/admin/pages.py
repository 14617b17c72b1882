"""Pages every billing admin shares: a refused (403) or missing (404) page in the admin's
own look instead of Django's bare one, and the lists that fit the work.

``AdminLookMixin`` wraps every URL of a model admin (its own pages and the extra ones it
adds: object actions, the payments tab, record-payment pages) so that a
``PermissionDenied`` or ``Http404`` raised by the view becomes a page with the admin's
header, breadcrumbs and a way back — with the same status code, so a forged POST is still
a 403 and an unknown id still a 404.
"""

import functools

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme

REFUSED = {
    403: ("Not allowed", "You are not allowed to do this."),
    404: ("Not found", "There is nothing here: it does not exist, or no longer does."),
}


def _same_site(request, url: str) -> str:
    allowed = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if url and allowed else ""


def refusal_page(request, admin_site, status: int, exc: Exception, opts=None):
    """The admin-look page for a refused (403) or missing (404) request."""
    title, default = REFUSED[status]
    detail = str(exc.args[0]) if exc.args and isinstance(exc.args[0], str) else ""
    context = {
        **admin_site.each_context(request),
        "title": title,
        "detail": detail or default,
        "status": status,
        "opts": opts,
        "back_url": _same_site(request, request.META.get("HTTP_REFERER", "")),
    }
    request.current_app = admin_site.name
    response = TemplateResponse(request, "admin/refused.html", context, status=status)
    return response.render()


class AdminLookMixin:
    """Every page of this model admin answers refusals in the admin's look."""

    def _in_admin_look(self, view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except PermissionDenied as exc:
                return refusal_page(request, self.admin_site, 403, exc, self.model._meta)
            except Http404 as exc:
                return refusal_page(request, self.admin_site, 404, exc, self.model._meta)

        return wrapped

    @property
    def urls(self):
        # Every URL the admin ends up with, whichever ``get_urls`` in the MRO added it.
        urls = self.get_urls()
        for pattern in urls:
            if getattr(pattern, "callback", None) is not None:
                pattern.callback = self._in_admin_look(pattern.callback)
        return urls


def crumbs(opts, obj=None, *tail) -> list[tuple[str, str | None]]:
    """Breadcrumbs of an extra admin page: app, model list, the object, then ``tail``
    (``(label, url or None)`` pairs; the last one is the page itself)."""
    from django.urls import reverse

    trail = [
        (str(opts.app_config.verbose_name), reverse("admin:app_list", args=[opts.app_label])),
        (
            str(opts.verbose_name_plural).capitalize(),
            reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        ),
    ]
    if obj is not None:
        change = f"admin:{opts.app_label}_{opts.model_name}_change"
        trail.append((str(obj), reverse(change, args=[obj.pk])))
    return trail + list(tail)
