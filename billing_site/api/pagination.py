"""Cursor pagination everywhere: stable under inserts, no OFFSET, at most 200 a page."""

from rest_framework import exceptions
from rest_framework.pagination import CursorPagination

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class Cursor(CursorPagination):
    """``?cursor=<opaque>&limit=<1..200>``; newest first by id unless a view says."""

    page_size = PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
    page_size_query_param = "limit"
    ordering = "-id"
    invalid_cursor_message = "cursor: not a cursor given by this list (use 'next'/'previous')."

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            cursor = False
        # Every ordering here is by an integer id: a forged position is refused too.
        if cursor is False or (cursor and cursor.position and not _is_int(cursor.position)):
            raise exceptions.ValidationError(
                {"cursor": "not a cursor given by this list; follow 'next' or 'previous'."}
            )
        return cursor

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and (not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE):
            raise exceptions.ValidationError({"limit": f"an integer from 1 to {MAX_PAGE_SIZE}."})
        return super().get_page_size(request)


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit() and len(text) < 20


class SeqCursor(Cursor):
    """For per-wallet transaction logs: newest first by their own sequence."""

    ordering = "-seq"


def page_of(serializer_class, name: str):
    """A serializer documenting a cursor page of ``serializer_class`` (for actions)."""
    from rest_framework import serializers

    return type(
        name,
        (serializers.Serializer,),
        {
            "next": serializers.CharField(allow_null=True),
            "previous": serializers.CharField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


def paginate(view, queryset, serializer_class, paginator_class=Cursor):
    paginator = paginator_class()
    page = paginator.paginate_queryset(queryset, view.request, view=view)
    data = serializer_class(page, many=True, context=view.get_serializer_context()).data
    return paginator.get_paginated_response(data)
