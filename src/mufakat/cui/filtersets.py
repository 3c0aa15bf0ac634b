"""The one filter definition of each CUI list: the incident list page, /api/cui/incidents, the
exports and `mufakat cui incidents` all read IncidentFilterSet; the asset list page and
/api/cui/assets read AssetFilterSet. Related look-ups (assets, sharing groups) are scoped to the
reader: an asset or group they may not see is rejected exactly like an id that does not exist."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from mufakat.core.filtering import (
    OrganisationCodeFilter,
    ScopedFilterSet,
    ScopedModelChoiceFilter,
    ScopedModelMultipleChoiceFilter,
)
from mufakat.core.sharing import queries as core_queries
from mufakat.cui.models import (
    Asset,
    AssetKind,
    AssetSource,
    Incident,
    IncidentType,
    Severity,
    Status,
)
from mufakat.cui.queries import visible_assets

# Django's own (translated) "Enter a valid value." for anything but two letters.
ISO2 = RegexValidator(r"^[A-Za-z]{2}$")


def _states_served(qs: QuerySet[Any], code: str, field: str) -> Q:
    # JSON list stored as text on SQLite and jsonb on PostgreSQL: the quoted code matches both.
    return Q(**{f"{field}__icontains": f'"{code.upper()}"'})


class IncidentFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), method="search", help_text="Text in title or description"
    )
    incident_type = django_filters.ChoiceFilter(
        label=_("Type"), choices=IncidentType.choices, empty_label=_("Any type")
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Status.choices, empty_label=_("Any status")
    )
    severity = django_filters.ChoiceFilter(
        label=_("Severity"), choices=Severity.choices, empty_label=_("Any")
    )
    state = django_filters.CharFilter(
        label=_("State (ISO code)"),
        method="filter_state",
        max_length=2,
        validators=[ISO2],
        help_text="ISO alpha-2: the reporting state or a state served by an affected cable",
    )
    owner = OrganisationCodeFilter(
        label=_("Reported by"),
        field_name="owner_org",
        to_field_name="code",
        scope=lambda reader: core_queries.organisations(),
        empty_label=_("Any"),
        help_text="ISO alpha-2 of the reporting state",
    )
    since = django_filters.DateFilter(
        label=_("From"),
        field_name="occurred_at",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Occurred on or after this day (YYYY-MM-DD, UTC)",
    )
    until = django_filters.DateFilter(
        label=_("To"),
        field_name="occurred_at",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Occurred on or before this day (YYYY-MM-DD, UTC)",
    )
    sharing_group = ScopedModelChoiceFilter(
        label=_("Sharing group"),
        field_name="sharing_group",
        scope=core_queries.sharing_groups_for,
        empty_label=_("Any"),
        help_text="Id of a sharing group your organisation is in",
    )
    # Machine-oriented filters: carried through the page's form as hidden fields (a link from an
    # asset page, a sync cursor) and offered by the API and the CLI.
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated",
        lookup_expr="gte",
        widget=forms.HiddenInput,
        help_text="For sync: changed at or after this time (ISO 8601, e.g. 2026-03-01T00:00:00Z)",
    )
    asset_id = ScopedModelMultipleChoiceFilter(
        field_name="asset",
        method="filter_asset",
        scope=visible_assets,
        widget=forms.MultipleHiddenInput,
        help_text="Asset id (repeatable): reported on or affected",
    )
    asset = ScopedModelMultipleChoiceFilter(
        field_name="asset",
        to_field_name="name",
        method="filter_asset",
        scope=visible_assets,
        widget=forms.MultipleHiddenInput,
        help_text="Exact asset name (repeatable): reported on or affected",
    )

    class Meta:
        model = Incident
        fields: list[str] = []

    def search(self, qs: QuerySet[Incident], name: str, value: str) -> QuerySet[Incident]:
        return qs.filter(Q(title__icontains=value) | Q(description__icontains=value))

    def filter_state(self, qs: QuerySet[Incident], name: str, value: str) -> QuerySet[Incident]:
        return qs.filter(
            _states_served(qs, value, "affected_states") | Q(owner_org__code=value.upper())
        )

    def filter_asset(
        self, qs: QuerySet[Incident], name: str, value: list[Asset]
    ) -> QuerySet[Incident]:
        pks = [a.pk for a in value]
        if not pks:  # an empty multiple choice arrives as an empty queryset, not as "no value"
            return qs
        return qs.filter(Q(asset_id__in=pks) | Q(affected_assets__in=pks)).distinct()


class AssetFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(
        label=_("Search name or owner"), method="search", help_text="Text in name or owners"
    )
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=AssetKind.choices, empty_label=_("Any")
    )
    source = django_filters.ChoiceFilter(
        label=_("Source"), choices=AssetSource.choices, empty_label=_("Any")
    )
    state = django_filters.CharFilter(
        label=_("State (ISO code)"),
        method="filter_state",
        max_length=2,
        validators=[ISO2],
        help_text="ISO alpha-2 of a state the asset serves",
    )

    class Meta:
        model = Asset
        fields: list[str] = []

    def search(self, qs: QuerySet[Asset], name: str, value: str) -> QuerySet[Asset]:
        return qs.filter(Q(name__icontains=value) | Q(owners__icontains=value))

    def filter_state(self, qs: QuerySet[Asset], name: str, value: str) -> QuerySet[Asset]:
        return qs.filter(_states_served(qs, value, "states"))
