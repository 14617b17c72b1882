from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from djmoney.models.fields import MoneyField
from moneyed import Money

# Half of the storage unit (4 decimal places). CHECK constraints that add or subtract
# money columns allow this much slack: on PostgreSQL (exact numeric, multiples of
# 0.0001) it changes nothing; on SQLite, which stores decimals as binary floats, it
# keeps 0.10 + 0.20 <= 0.30 true.
SUM_SLACK = Decimal("0.00005")


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk writes that would rewrite history are refused in Python too (the database
    refuses them as well, with triggers)."""

    def update(self, **kwargs):
        raise TypeError(
            f"{self.model._meta.verbose_name_plural} are append-only: post a correcting "
            "entry instead."
        )

    def delete(self):
        raise TypeError(
            f"{self.model._meta.verbose_name_plural} are append-only: post a correcting "
            "entry instead."
        )


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


class ProvenanceModel(models.Model):
    """Who caused a logged movement and the document behind it, for the append-only
    logs (ledger entries, wallet transactions).

    ``source`` links generically: payments, credit memos and wallet transactions live in
    apps that import the ledger, which imports none of them. ``actor`` is the user, or
    empty for an integration or the system, which ``actor_label`` then names.
    """

    source_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    source = GenericForeignKey("source_type", "source_id")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150)

    class Meta:
        abstract = True
