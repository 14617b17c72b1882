"""Events in the admin: a read-only record list (the outbox is written by services)."""

import json

from django.contrib import admin
from django.utils.html import format_html

from .models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "type", "account", "seq", "id")
    list_filter = ("type",)
    search_fields = ("=id", "=account__id", "account__name")
    date_hierarchy = "created_at"
    list_select_related = ("account",)
    ordering = ("-created_at", "-seq")
    fields = ("id", "type", "account", "seq", "created_at", "payload_display")
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description="payload")
    def payload_display(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, sort_keys=True))

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
