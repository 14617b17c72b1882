"""Reading money figures off the admin and member pages in a browser, as a person reads
them: a table's rows by its column headings, a figure by the label beside it, the
messages the page shows. Nothing here reads the database."""

import re

from playwright.sync_api import Page

_TABLE_JS = """
(table) => {
  const clean = (el) => el.innerText.replace(/\\s+/g, ' ').trim();
  // headings by their text, not as CSS shows them (the admin upper-cases some)
  const heads = [...table.querySelectorAll('thead th')].map(
    (el) => el.textContent.replace(/\\s+/g, ' ').trim());
  const rows = [];
  const carried = [];  // per column: [text, rows left] of a cell spanning rows
  for (const tr of table.querySelectorAll('tbody tr')) {
    const cells = [];
    const own = [...tr.children];
    let col = 0;
    while (col < heads.length && (own.length || (carried[col] && carried[col][1] > 0))) {
      if (carried[col] && carried[col][1] > 0) {
        cells.push(carried[col][0]);
        carried[col][1] -= 1;
        col += 1;
        continue;
      }
      const cell = own.shift();
      const span = cell.colSpan || 1;
      for (let k = 0; k < span; k++) {
        cells.push(clean(cell));
        if (cell.rowSpan > 1) carried[col + k] = [clean(cell), cell.rowSpan - 1];
      }
      col += span;
    }
    const spanned = [...tr.children].some((c) => c.colSpan > 1);
    if (cells.length !== heads.length || spanned) continue;  // opening and empty rows
    const row = {};
    heads.forEach((h, i) => { row[h || ('#' + i)] = cells[i]; });
    rows.push(row);
  }
  return rows;
}
"""

_FIGURE_JS = """
(root, wanted) => {
  const norm = (s) => s.replace(/\\s+/g, ' ').replace(/:$/, '').trim().toLowerCase();
  const shown = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  // the page's summary figures first, then read-only fields, then table headings
  const nodes = root.querySelectorAll('dl dt, .form-row label, th');
  for (const node of nodes) {
    if (!shown(node) || norm(node.textContent) !== wanted) continue;
    let value = node.nextElementSibling;
    if (!value && node.parentElement) value = node.parentElement.nextElementSibling;
    if (value) return value.innerText.replace(/\\s+/g, ' ').trim();
  }
  return null;
}
"""


def table(page: Page, selector: str) -> list[dict[str, str]]:
    """The rows of the table at ``selector``, each a dict keyed by its column heading."""
    return page.locator(selector).first.evaluate(_TABLE_JS)


def figure(page: Page, label: str, *, within: str = "#content, main") -> str:
    """The value shown beside ``label`` (an admin read-only field, a dt/dd pair, a th/td
    pair), whitespace squashed; fails naming the label when the page has none."""
    root = page.locator(within).first
    value = root.evaluate(_FIGURE_JS, label.lower())
    assert value is not None, f"no figure labelled {label!r} on {page.url}"
    return value


def messages(page: Page) -> list[str]:
    """The admin's messages (success, warning, error) shown on the page."""
    return [
        " ".join(text.split())
        for text in page.locator("ul.messagelist li, .messages li").all_inner_texts()
    ]


def action(page: Page, label: str):
    """Open an object action from its button (a link in the object tools)."""
    page.locator(".object-tools").get_by_role("link", name=label, exact=True).click()
    page.wait_for_load_state()


def action_labels(page: Page) -> list[str]:
    """The object tools' labels as written (the admin's CSS shows them upper-cased)."""
    texts = page.locator(".object-tools a").evaluate_all("els => els.map(e => e.textContent)")
    return [" ".join(t.split()) for t in texts]


def submit(page: Page, label: str):
    """Press the form's submit button labelled ``label`` and wait for the next page."""
    page.locator(f'input[type=submit][value="{label}"], button:text-is("{label}")').first.click()
    page.wait_for_load_state()


def amount(text: str) -> str:
    """The money in a cell ("£1,234.50", "-£20.00") without surrounding words."""
    found = re.search(r"-?[£€$¥]-?[\d,]+(?:\.\d+)?", text)
    assert found, f"no amount in {text!r}"
    return found.group(0)


def choose(page: Page, label: str, containing: str):
    """Pick the option of the ``label`` select whose text contains ``containing`` (the
    admin's option labels carry figures beside the invoice number)."""
    select = (
        page.locator("select").filter(has=page.locator("option")).and_(page.get_by_label(label))
    )
    select.wait_for()
    texts = select.locator("option").all_text_contents()
    matching = [t for t in texts if containing in t]
    assert len(matching) == 1, (containing, texts)
    select.select_option(label=matching[0])
