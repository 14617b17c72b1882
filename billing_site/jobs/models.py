from django.db import models


class PeriodicSlot(models.Model):
    """Job ``name`` was enqueued for the period starting at ``slot``: the unique row
    that makes the scheduler idempotent per period, on any number of hosts."""

    name = models.CharField(max_length=100)
    slot = models.DateTimeField()
    enqueued_at = models.DateTimeField(auto_now_add=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "slot"], name="periodic_slot_once")]

    def __str__(self) -> str:
        return f"{self.name} @ {self.slot:%Y-%m-%d %H:%M}"
