"""Filter definitions of the core lists (inbox, audit log), shared by pages and the API."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet

from mufakat.core.choices import AuditAction
from mufakat.core.filtering import ScopedFilterSet, StrictBooleanFilter
from mufakat.core.models import AuditEntry, Notification
from mufakat.core.notifications import inbox as box


class NotificationFilterSet(ScopedFilterSet):
    """The inbox filters for the API; their meaning is core.notifications.inbox.filtered's, so
    the inbox page (which reads InboxFilter) and the API agree."""

    unread = StrictBooleanFilter(method="filter_unread", help_text="true: unread alerts only")
    module = django_filters.CharFilter(
        method="filter_inbox", max_length=50, help_text="Module label, e.g. cui"
    )
    state = django_filters.CharFilter(
        method="filter_inbox", max_length=2, help_text="ISO alpha-2 of a state concerned"
    )
    severity = django_filters.NumberFilter(
        method="filter_inbox", min_value=1, max_value=5, help_text="Severity 1-5"
    )

    class Meta:
        model = Notification
        fields: list[str] = []

    def filter_unread(
        self, qs: QuerySet[Notification], name: str, value: bool | None
    ) -> QuerySet[Notification]:
        # false means "no filter", as before: read and unread alike.
        return qs.filter(read_at__isnull=True) if value else qs

    def filter_inbox(
        self, qs: QuerySet[Notification], name: str, value: Any
    ) -> QuerySet[Notification]:
        return box.filtered(qs, self.inbox_filter(**{name: value}))

    def inbox_filter(self, **only: Any) -> box.InboxFilter:
        """These filters as the inbox's own InboxFilter (`only` restricts to given fields)."""
        d = self.form.cleaned_data if only == {} else only
        sev = d.get("severity")
        return box.InboxFilter(
            module=str(d.get("module") or ""),
            state=str(d.get("state") or "").upper(),
            severity=int(sev) if sev is not None else None,
        )


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
