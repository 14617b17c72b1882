"""Billfold's admin site (``admin.site``, installed by ``apps.BillfoldAdminConfig``):
Django's own, with the finance overview above the app list on its home page and the
aged receivables report (page, CSV, PDF) among its URLs. Nothing else changes: every
model admin registers on it as on Django's default site."""

import functools

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path


class BillfoldAdminSite(admin.AdminSite):
    index_template = "admin/receivables/index.html"

    def index(self, request, extra_context=None):
        from .overview_page import overview_context

        context = {**overview_context(request), **(extra_context or {})}
        return super().index(request, extra_context=context)

    def _page(self, view):
        """An admin page (login required) whose refusals are in the admin's look."""

        # Imported here: ``ledger.admin`` registers its model admins on this very site.
        from ledger.admin.pages import refusal_page

        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            try:
                return view(self, request, *args, **kwargs)
            except PermissionDenied as exc:
                return refusal_page(request, self, 403, exc)
            except Http404 as exc:
                return refusal_page(request, self, 404, exc)

        return self.admin_view(wrapped)

    def get_urls(self):
        from . import report

        pages = [
            path("receivables/aging/", self._page(report.aging_page), name="receivables_aging"),
            path(
                "receivables/aging/csv/", self._page(report.aging_csv), name="receivables_aging_csv"
            ),
            path(
                "receivables/aging/pdf/", self._page(report.aging_pdf), name="receivables_aging_pdf"
            ),
        ]
        return pages + super().get_urls()
