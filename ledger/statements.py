"""What both faces of a statement share — the staff payments tab and the member page:
the period/paging parameters (one form), the links that keep them, and the words for
a balance. A read of the ledger, so it lives in the ledger and both can import it."""

from datetime import date
from urllib.parse import urlencode

from django import forms
from moneyed import Money

from .keyset import cursor_field, one_cursor
from .selectors import EARLIEST, LATEST

# How a balance (credits − debits) reads, per audience: staff see the ledger's terms
# (SPEC section 3: "in credit" / "in debt"), a member reads what they owe.
BALANCE_WORDS = {
    "staff": ("in credit", "in debt", "settled"),
    "member": ("in credit", "owed", "settled"),
}


def balance_words(balance: Money, audience: str = "staff") -> str:
    """``"in credit"`` above zero, ``"in debt"`` (staff) / ``"owed"`` (member) below."""
    credit, debt, settled = BALANCE_WORDS[audience]
    if balance.amount > 0:
        return credit
    if balance.amount < 0:
        return debt
    return settled


class StatementFilterForm(forms.Form):
    """GET parameters of the tab: ``from``/``to`` (inclusive days), ``before``/``after``
    (keyset cursors: a ``seq``). ``from`` is a Python keyword, hence fields set here."""

    def __init__(self, data=None):
        super().__init__(data)
        date_messages = {"invalid": "Enter a real date as YYYY-MM-DD."}
        for name, label in (("from", "From"), ("to", "To")):
            self.fields[name] = forms.DateField(
                label=label,
                required=False,
                input_formats=["%Y-%m-%d"],
                error_messages=date_messages,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )
        for name in ("before", "after"):
            self.fields[name] = cursor_field()

    def _clean_day(self, name):
        day = self.cleaned_data.get(name)
        if day is not None and not EARLIEST <= day <= LATEST:
            raise forms.ValidationError(
                f"Choose a date between {EARLIEST.isoformat()} and {LATEST.isoformat()}."
            )
        return day

    def clean_from(self):
        return self._clean_day("from")

    def clean_to(self):
        return self._clean_day("to")

    def clean(self):
        data = super().clean()
        start, end = data.get("from"), data.get("to")
        if start and end and start > end:
            raise forms.ValidationError(
                f"The start date ({start.isoformat()}) is after the end date "
                f"({end.isoformat()}): choose a start on or before the end."
            )
        if data.get("before") is not None and data.get("after") is not None:
            raise forms.ValidationError("A page link cannot go both older and newer.")
        return data

    def problems(self) -> list[str]:
        """Every error as one readable sentence naming the date field it is about."""
        out = []
        for name, errors in self.errors.items():
            field = self.fields.get(name)
            label = f"{field.label}: " if name in ("from", "to") else ""
            out.extend(f"{label}{message}" for message in errors)
        return out

    def fallback(self) -> str:
        """What the page shows instead when the request had a problem."""
        data = self.cleaned_data
        start, end = data.get("from"), data.get("to")
        inverted = bool(start and end and start > end)
        if "from" in self.errors or "to" in self.errors or inverted:
            start, end = self.period()
            if start or end:
                return "Showing the valid part of the period instead."
            return "Showing the whole history instead."
        return "Showing the newest page instead."

    def period(self) -> tuple[date | None, date | None]:
        """The valid part of the period; an invalid date is left out, and an inverted
        period means the whole history (the page says so)."""
        data = self.cleaned_data if self.is_bound and self.errors is not None else {}
        start, end = data.get("from"), data.get("to")
        if start and end and start > end:
            return None, None
        return start, end

    def cursors(self) -> tuple[int | None, int | None]:
        data = self.cleaned_data if self.is_bound and self.errors is not None else {}
        return one_cursor(data.get("before"), data.get("after"))


def period_query(date_from, date_to, **cursor) -> str:
    """``?from=…&to=…&before=…`` with only what is set."""
    params = {}
    if date_from:
        params["from"] = date_from.isoformat()
    if date_to:
        params["to"] = date_to.isoformat()
    params.update({k: v for k, v in cursor.items() if v is not None})
    return ("?" + urlencode(params)) if params else ""


def paging_links(base: str, page, date_from, date_to, *, paged: bool) -> dict:
    """``older_url``/``newer_url`` (None at the ends) and ``newest_url`` (when paged)."""
    return {
        "older_url": (
            base + period_query(date_from, date_to, before=page.older_cursor)
            if page.older_cursor is not None
            else None
        ),
        "newer_url": (
            base + period_query(date_from, date_to, after=page.newer_cursor)
            if page.newer_cursor is not None
            else None
        ),
        "newest_url": base + period_query(date_from, date_to) if paged else None,
    }
