"""Keyset paging on seq (``ledger.keyset.seq_page``), the one pager of the statement and
the wallet movements: newest first, cursors that stop at the ends, one query a page."""

import pytest
from moneyed import Money

from ledger import services
from ledger.keyset import CursorForm, seq_page
from ledger.models import LedgerEntry
from ledger.services import Posting

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(account, actor):
    postings = [
        Posting(kind="PAYM", amount=Money("1.00", "GBP"), reference=f"P{i}") for i in range(7)
    ]
    services.post(account=account, postings=postings, actor=actor)
    return LedgerEntry.objects.filter(account=account)


def seqs(page):
    return [row.seq for row in page.rows]


def test_pages_walk_back_and_forth_and_stop_at_the_ends(history, django_assert_num_queries):
    with django_assert_num_queries(1):
        newest = seq_page(history, size=3, last=7)
    assert (seqs(newest), newest.older, newest.newer, newest.is_oldest) == (
        [7, 6, 5],
        5,
        None,
        False,
    )
    middle = seq_page(history, before=newest.older, size=3, last=7)
    assert (seqs(middle), middle.older, middle.newer) == ([4, 3, 2], 2, 4)
    oldest = seq_page(history, before=middle.older, size=3, last=7)
    assert (seqs(oldest), oldest.older, oldest.newer, oldest.is_oldest) == ([1], None, 1, True)
    back = seq_page(history, after=oldest.newer, size=3, last=7)
    assert (seqs(back), back.older, back.newer) == ([4, 3, 2], 2, 4)


def test_a_range_bounds_the_cursors(history):
    page = seq_page(history.filter(seq__gte=3, seq__lte=5), size=3, first=3, last=5)
    assert (seqs(page), page.older, page.newer, page.is_oldest) == ([5, 4, 3], None, None, True)


def test_an_empty_page_has_no_cursors(history):
    page = seq_page(history, before=1, size=3, last=7)
    assert (page.rows, page.older, page.newer, page.is_oldest) == ([], None, None, False)


@pytest.mark.parametrize(
    ("query", "cursors"),
    [
        ({"before": "5"}, (5, None)),
        ({"after": "5"}, (None, 5)),
        ({"before": "5", "after": "2"}, (None, None)),
        ({"before": "-1"}, (None, None)),
        ({"before": "x"}, (None, None)),
        ({"after": str(2**63)}, (None, None)),
    ],
)
def test_cursor_links_we_did_not_write_give_the_newest_page(query, cursors):
    assert CursorForm(query).cursors() == cursors
