from django.db import models
from djmoney.models.fields import MoneyField
from moneyed import Money


class SingleCurrencyModel(models.Model):
    """A row whose money fields all share one ``currency`` column.

    django-money assigns each money field's default (``Money(0, DEFAULT_CURRENCY)``)
    after the ``currency`` keyword and so overwrites it; this re-applies the currency
    given to the constructor to every money field of the row.
    """

    class Meta:
        abstract = True

    def __init__(self, *args, **kwargs):
        currency = kwargs.get("currency")
        super().__init__(*args, **kwargs)
        if currency:
            currency = str(currency)
            for field in self._meta.concrete_fields:
                if isinstance(field, MoneyField):
                    value = self.__dict__.get(field.name)
                    if isinstance(value, Money) and str(value.currency) != currency:
                        self.__dict__[field.name] = Money(value.amount, currency)
            self.__dict__["currency"] = currency
