"""Reading events: pending ones for a consumer, in order, and an account's history."""

from django.db.models import Exists, OuterRef, QuerySet

from .models import ConsumedEvent, Event


def pending_events(*, consumer: str, limit: int = 100, lock: bool = False) -> QuerySet[Event]:
    """Events ``consumer`` has not marked yet (``services.mark_consumed``), oldest first
    (``created_at``, then each account's ``seq``). ``lock=True`` (inside
    ``transaction.atomic()``) locks the rows it returns and skips those another worker
    holds, so two workers never take the same event."""
    taken = ConsumedEvent.objects.filter(consumer=consumer, event=OuterRef("pk"))
    events = Event.objects.filter(~Exists(taken)).order_by("created_at", "account_id", "seq")
    if lock:
        events = events.select_for_update(skip_locked=True, of=("self",))
    return events[:limit]


def account_events(account_id: int) -> QuerySet[Event]:
    """One account's events in their order (``seq``)."""
    return Event.objects.filter(account_id=account_id).order_by("seq")
