"""Reminder levels (docs/RULES.md *Dunning reminders*): added and changed through
``save_level`` — from the admin's level form and ``POST /api/v1/reminder-levels/``."""

from django.core.exceptions import ValidationError
from django.db import transaction

from ledger.errors import InvalidInput
from ledger.services import Actor

from ..models import ReminderLevel

LEVEL_FIELDS = ("name", "offset_days", "subject", "body", "is_active")


def save_level(*, level: ReminderLevel | int | None = None, actor: Actor, **data) -> ReminderLevel:
    """Add a level (``level`` None) or change one. Refused: an unknown placeholder in the
    subject or body (named), days beyond a year, an active level with the same days."""
    with transaction.atomic():
        if level is None:
            row = ReminderLevel()
        else:
            pk = level.pk if isinstance(level, ReminderLevel) else level
            row = ReminderLevel.objects.select_for_update().get(pk=pk)
        for name in LEVEL_FIELDS:
            if name in data:
                setattr(row, name, data[name])
        if not (row.name or "").strip():
            raise InvalidInput("name: a level needs a name.", field="name")
        try:
            row.clean()
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            raise InvalidInput(messages[0], field=field) from None
        clash = ReminderLevel.objects.filter(is_active=True, offset_days=row.offset_days)
        if row.is_active and clash.exclude(pk=row.pk).exists():
            other = clash.exclude(pk=row.pk).first()
            raise InvalidInput(
                f"offset_days: the active level '{other.name}' is sent {other.when} already.",
                field="offset_days",
            )
        row.save()
        return row
