"""Filter definitions of the core lists (inbox, audit log), shared by pages and the API."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet

from mufakat.core.choices import AuditAction
from mufakat.core.filtering import ScopedFilterSet, StrictBooleanFilter
from mufakat.core.models import AuditEntry, Notification


class NotificationFilterSet(ScopedFilterSet):
    unread = StrictBooleanFilter(method="filter_unread", help_text="true: unread alerts only")

    class Meta:
        model = Notification
        fields: list[str] = []

    def filter_unread(
        self, qs: QuerySet[Notification], name: str, value: bool | None
    ) -> QuerySet[Notification]:
        # false means "no filter", as before: read and unread alike.
        return qs.filter(read_at__isnull=True) if value else qs


class AuditEntryFilterSet(ScopedFilterSet):
    """Narrows audit_queryset(reader) (the reader's own organisation's entries)."""

    action = django_filters.ChoiceFilter(choices=AuditAction.choices)
    object_type = django_filters.CharFilter(
        max_length=100, help_text="app_label.model, e.g. cui.incident"
    )
    actor = django_filters.CharFilter(
        field_name="actor_name", lookup_expr="icontains", help_text="Part of the actor's name"
    )
    q = django_filters.CharFilter(
        field_name="object_repr", lookup_expr="icontains", help_text="Text in the object's name"
    )
    since = django_filters.DateFilter(
        field_name="time",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="On or after this day (YYYY-MM-DD)",
    )
    until = django_filters.DateFilter(
        field_name="time",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="On or before this day (YYYY-MM-DD)",
    )

    class Meta:
        model = AuditEntry
        fields: list[str] = []
