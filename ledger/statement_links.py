"""Links of a statement page (staff tab and member page alike): the period's query
string and the keyset paging links that keep it."""

from urllib.parse import urlencode


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
