"""Helpers to read member pages in tests: table cells, PDF text."""

import io
import re
from html.parser import HTMLParser

from pypdf import PdfReader


class _TableParser(HTMLParser):
    """Collects the text of every cell of ``<table id=...>``, row by row."""

    def __init__(self, table_id: str):
        super().__init__()
        self.table_id = table_id
        self.depth = 0
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.section = ""

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("id", self.table_id) in attrs:
            self.depth = 1
        elif self.depth and tag in ("thead", "tbody", "tfoot"):
            self.section = tag
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table" and self.depth:
            self.depth = 0
        elif self.depth and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def table_rows(html: str | bytes, table_id: str, *, header: bool = False) -> list[list[str]]:
    """Rows of the table's cells; the header row is dropped unless ``header``."""
    parser = _TableParser(table_id)
    parser.feed(html.decode() if isinstance(html, bytes) else html)
    return parser.rows if header else parser.rows[1:]


def position_figures(html: str | bytes, account_pk: int) -> dict[str, str]:
    """The member home's figures of one account (``data-figure`` name -> its amount and
    words, whitespace squashed)."""
    html = html.decode() if isinstance(html, bytes) else html
    section = html.split(f'id="position-{account_pk}"', 1)[1].split("</section>", 1)[0]
    found = re.findall(r'data-figure="([\w-]+)">(.*?)</dd>', section, re.S)
    return {name: " ".join(re.sub(r"<[^>]+>", " ", value).split()) for name, value in found}


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def squash(text: str) -> str:
    """Text without any whitespace: PDF text extraction breaks long cells over lines."""
    return "".join(text.split())


def gbp(value) -> str:
    """How the pages write a GBP amount: £1,234.50, -£20.00."""
    from decimal import Decimal

    from moneyed import Money

    from ledger.money import format_money

    return format_money(Money(Decimal(value), "GBP"))
