"""Template filters for money: ``{% load money %}{{ value|money }}``.

``money`` formats with the currency and its own precision (``£1,234.50``, ``-£12.00``,
``¥1,200``); ``money_plain`` gives the bare decimal string (``-12.00``) for inputs and
machine-readable cells. Both render an empty string for ``None``/empty values, and leave
anything that is not a ``Money`` unchanged rather than guessing a currency.
"""

from django import template
from moneyed import Money

from ledger.money import format_money, plain

register = template.Library()


@register.filter(name="money")
def money(value):
    if value is None or value == "":
        return ""
    if isinstance(value, Money):
        return format_money(value)
    return value


@register.filter(name="money_plain")
def money_plain(value):
    if value is None or value == "":
        return ""
    if isinstance(value, Money):
        return plain(value)
    return value
