"""The one PDF renderer: every document (statements, invoices, receipts) goes through
``render_pdf``, whose URL fetcher refuses ``file:``, ``http:`` and every other scheme
but inline ``data:`` — a template can never make the server read a file or call out.

Member documents render the page's own template with ``print=True`` (no navigation,
forms or links) and the portal's stylesheet handed over from disk, so one look serves
screen and paper; page size, margins and "Page n of m" come from its ``@page`` rules.
"""

import logging
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

MEMBER_STYLESHEET = (
    Path(settings.BASE_DIR) / "billing_site" / "portal" / "static" / "member" / "site.css"
)


class _ScreenOnlyRules(logging.Filter):
    """WeasyPrint reads only media *types*: it skips the stylesheet's phone rules
    (``@media screen and (max-width: ...)``), as intended, and says so on every render."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "media type" not in record.getMessage()


logging.getLogger("weasyprint").addFilter(_ScreenOnlyRules())


def render_pdf(html: str, *, stylesheet: Path | None = None) -> bytes:
    """HTML → PDF bytes, fetching nothing (``data:`` URLs are read inline)."""
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"})
    document = HTML(string=html, url_fetcher=fetcher)
    sheets = [CSS(filename=str(stylesheet), url_fetcher=fetcher)] if stylesheet else []
    return document.write_pdf(stylesheets=sheets)


def render_pdf_bytes(template: str, context: dict, request: HttpRequest | None = None) -> bytes:
    """A member page's template in its print variant, with the portal's stylesheet."""
    html = render_to_string(
        template, {**context, "print": True, "generated_at": timezone.now()}, request=request
    )
    return render_pdf(html, stylesheet=MEMBER_STYLESHEET)


def pdf_response(
    template: str, context: dict, filename: str, request: HttpRequest | None = None
) -> HttpResponse:
    return pdf_download(render_pdf_bytes(template, context, request), filename)


def pdf_download(content: bytes, filename: str, *, inline: bool = False) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
