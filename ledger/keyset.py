"""Keyset paging on ``seq``: the one way a history (an account's ledger, a wallet's
movements) is paged, newest first.

A page is one index range scan from a cursor, never ``OFFSET``: page 10,000 costs what
page 1 costs, and rows posted meanwhile never shift a page. A cursor is the ``seq`` of
the row at the page's edge: ``before=<seq>`` gives the older rows, ``after=<seq>`` the
newer ones. Each history numbers its rows ``1, 2, ...`` without gaps under a row lock
(``Account.last_seq``, ``Wallet.last_seq``), so the range's ends are known without a
count and a page knows whether another page lies beyond it.
"""

from dataclasses import dataclass

from django import forms
from django.db.models import QuerySet

MAX_CURSOR = 2**63 - 1  # a seq is a BIGINT


@dataclass(frozen=True)
class SeqPage:
    rows: list  # newest first
    older: int | None  # pass as ``before`` for the next older page; None: none older
    newer: int | None  # pass as ``after`` for the next newer page; None: none newer
    is_oldest: bool  # the page ends with the first row of the range


def seq_page(
    queryset: QuerySet,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int,
    first: int = 1,
    last: int,
) -> SeqPage:
    """One page of ``queryset`` (rows with a ``seq``), newest first, in one query.

    ``first``/``last`` are the lowest and highest ``seq`` of the range paged, so the
    page gives no cursor towards an end it already shows. ``after`` pages towards the
    newer rows, else ``before`` towards the older ones; neither: the newest page.
    """
    if after is not None:
        rows = list(queryset.filter(seq__gt=after).order_by("seq")[:size])
        rows.reverse()
    else:
        if before is not None:
            queryset = queryset.filter(seq__lt=before)
        rows = list(queryset.order_by("-seq")[:size])
    if not rows:
        return SeqPage(rows=rows, older=None, newer=None, is_oldest=False)
    newest, oldest = rows[0].seq, rows[-1].seq
    return SeqPage(
        rows=rows,
        older=oldest if oldest > first else None,
        newer=newest if newest < last else None,
        is_oldest=oldest == first,
    )


def cursor_field() -> forms.IntegerField:
    """A ``before``/``after`` GET parameter: a seq, or a link we did not write."""
    return forms.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_CURSOR,
        widget=forms.HiddenInput,
        error_messages={
            key: "The page link is not valid." for key in ("invalid", "min_value", "max_value")
        },
    )


def one_cursor(before: int | None, after: int | None) -> tuple[int | None, int | None]:
    """Both cursors at once is not a link we write: the newest page instead."""
    if before is not None and after is not None:
        return None, None
    return before, after


class CursorForm(forms.Form):
    """``?before=<seq>`` / ``?after=<seq>`` of a paged history."""

    before = cursor_field()
    after = cursor_field()

    def cursors(self) -> tuple[int | None, int | None]:
        """The cursors asked for; none (the newest page) for an unreadable link."""
        if not self.is_valid():
            return None, None
        return one_cursor(self.cleaned_data["before"], self.cleaned_data["after"])
