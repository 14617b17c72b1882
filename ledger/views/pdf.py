"""PDF downloads rendered by WeasyPrint from the page's own template (print variant).

The template is rendered with ``print=True``: no navigation, forms or links, and the
stylesheet is handed to WeasyPrint from disk instead of a ``<link>``, so rendering never
fetches anything over the network. Page size, margins and "Page n of m" come from the
``@page`` rules of the same stylesheet the browser uses.
"""

import logging
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

STYLESHEET = Path(__file__).resolve().parent.parent / "static" / "member" / "site.css"


class _ScreenOnlyRules(logging.Filter):
    """WeasyPrint reads only media *types*: it skips the stylesheet's phone rules
    (``@media screen and (max-width: ...)``), as intended, and says so on every render."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "media type" not in record.getMessage()


logging.getLogger("weasyprint").addFilter(_ScreenOnlyRules())


def render_pdf_bytes(template: str, context: dict, request: HttpRequest | None = None) -> bytes:
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    html = render_to_string(
        template, {**context, "print": True, "generated_at": timezone.now()}, request=request
    )
    # Nothing is fetched over the network (only inline data: URLs would be read).
    document = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"}))
    return document.write_pdf(stylesheets=[CSS(filename=str(STYLESHEET))])


def pdf_response(
    template: str, context: dict, filename: str, request: HttpRequest | None = None
) -> HttpResponse:
    response = HttpResponse(
        render_pdf_bytes(template, context, request), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
