"""CUI forms: incident report, status change, update note, attachment, uploads, subscriptions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mufakat.core.choices import DISTRIBUTION_ORDER, TLP, TLP_MAX_DISTRIBUTION, Distribution
from mufakat.core.models import Organisation, user_org
from mufakat.core.sharing import queries as core_queries
from mufakat.cui.models import Asset, IncidentType, Severity, Status, SubscriptionKind
from mufakat.cui.queries import visible_assets
from mufakat.cui.services import IncidentInput


def _limit_assets(form: forms.Form, user: Any) -> None:
    """Offer (and accept) only the assets this user may see: another organisation's upload is
    not a valid choice."""
    field = form.fields["asset"]
    assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrows for mypy
    field.queryset = visible_assets(user)


class IncidentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    incident_type = forms.ChoiceField(
        label=_("Type"), choices=IncidentType.choices, initial=IncidentType.UNKNOWN
    )
    occurred_at = forms.DateTimeField(
        label=_("Time of incident (UTC)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    lat = forms.FloatField(
        label=_("Latitude"),
        min_value=-90,
        max_value=90,
        required=False,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    lon = forms.FloatField(
        label=_("Longitude"),
        min_value=-180,
        max_value=180,
        required=False,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    uncertainty_km = forms.FloatField(
        label=_("Position uncertainty (km)"), min_value=0, max_value=500, initial=1.0
    )
    asset = forms.ModelChoiceField(
        label=_("Asset (if known)"),
        queryset=Asset.objects.none(),  # set per user in __init__
        required=False,
        help_text=_("Without a position, the middle of the asset's route is used."),
    )
    depth_m = forms.FloatField(label=_("Depth (m)"), min_value=0, max_value=11000, required=False)
    severity = forms.TypedChoiceField(
        label=_("Severity"), choices=Severity.choices, coerce=int, initial=Severity.MODERATE
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Facts only. Most cable faults are accidents (fishing, anchors): do not presume intent."
        ),
    )
    impact_radius_km = forms.FloatField(
        label=_("Impact radius (km)"), min_value=1, max_value=500, initial=50
    )
    distribution = forms.ChoiceField(
        label=_("Share with"), choices=Distribution.choices, initial=Distribution.ORGANISATION
    )
    tlp = forms.ChoiceField(label=_("TLP marking"), choices=TLP.choices, initial=TLP.AMBER)
    shared_with = forms.ModelMultipleChoiceField(
        label=_("Named organisations"),
        queryset=Organisation.objects.all(),
        required=False,
        help_text=_("Used when sharing with named organisations."),
    )
    sharing_group = forms.ModelChoiceField(
        label=_("Sharing group"),
        queryset=Organisation.objects.none(),
        required=False,
        help_text=_("Used when sharing with a sharing group."),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        org = user_org(user)
        others = (
            Organisation.objects.all() if org is None else Organisation.objects.exclude(pk=org.pk)
        )
        shared_with = self.fields["shared_with"]
        sharing_group = self.fields["sharing_group"]
        assert isinstance(shared_with, forms.ModelMultipleChoiceField)  # noqa: S101 - narrows for mypy
        assert isinstance(sharing_group, forms.ModelChoiceField)  # noqa: S101
        shared_with.queryset = others
        # Every organisation visible at once: a four-row box hid most of them.
        shared_with.widget.attrs["size"] = str(min(max(others.count(), 4), 30))
        sharing_group.queryset = core_queries.sharing_groups_for(user)
        _limit_assets(self, user)
        self.fields["occurred_at"].initial = timezone.now().strftime("%Y-%m-%dT%H:%M")
        # Say the TLP ceiling before submit, in the words of the error it would otherwise cause.
        self.fields["distribution"].help_text = " ".join(
            [
                str(_("The TLP marking caps how far a report may be shared:")),
                *(
                    _("%(tlp)s allows at most “%(max)s”.")
                    % {"tlp": TLP(t).label, "max": Distribution(d).label}
                    for t, d in TLP_MAX_DISTRIBUTION.items()
                ),
            ]
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lat, lon, asset = data.get("lat"), data.get("lon"), data.get("asset")
        if (lat is None) != (lon is None):
            self.add_error("lat" if lat is None else "lon", _("Give both latitude and longitude."))
        elif (
            lat is None
            and asset is None
            and not self.has_error("lat")
            and not self.has_error("lon")
        ):
            self.add_error("lat", _("Click the map, type a position or choose an asset."))
        dist, tlp = data.get("distribution"), data.get("tlp")
        if dist and tlp:
            widest = TLP_MAX_DISTRIBUTION[tlp]
            if DISTRIBUTION_ORDER.index(dist) > DISTRIBUTION_ORDER.index(widest):
                self.add_error(
                    "distribution",
                    _("%(tlp)s allows at most “%(max)s”.")
                    % {"tlp": TLP(tlp).label, "max": Distribution(widest).label},
                )
        if dist == Distribution.NAMED and not data.get("shared_with"):
            self.add_error("shared_with", _("Name at least one organisation to release to."))
        if dist == Distribution.GROUP and not data.get("sharing_group"):
            self.add_error("sharing_group", _("Choose the sharing group to release to."))
        return data

    def to_input(self) -> IncidentInput:
        d = self.cleaned_data
        return IncidentInput(
            title=d["title"],
            incident_type=d["incident_type"],
            occurred_at=d["occurred_at"],
            lat=d.get("lat"),
            lon=d.get("lon"),
            uncertainty_km=d["uncertainty_km"],
            asset_id=d["asset"].pk if d.get("asset") else None,
            depth_m=d.get("depth_m"),
            severity=d["severity"],
            description=d.get("description", ""),
            impact_radius_km=d["impact_radius_km"],
            distribution=d["distribution"],
            tlp=d["tlp"],
            shared_with=list(d.get("shared_with") or []),
            sharing_group=d.get("sharing_group"),
        )


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class UpdateForm(forms.Form):
    text = forms.CharField(
        label=_("Update"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))


class UploadForm(forms.Form):
    # The page says next to the form that uploaded routes stay inside the organisation.
    file = forms.FileField(
        label=_("File"), help_text=_("STIX 2.1 bundle (.json), or a route layer (.geojson, .kml)")
    )
    kind = forms.ChoiceField(
        label=_("What is it?"),
        choices=[("stix", _("STIX 2.1 incidents")), ("assets", _("Asset routes (GeoJSON/KML)"))],
    )


class SubscriptionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Alert me about"), choices=SubscriptionKind.choices)
    asset = forms.ModelChoiceField(label=_("Asset"), queryset=Asset.objects.none(), required=False)
    state = forms.CharField(label=_("State (ISO code)"), required=False, max_length=2)
    lat = forms.FloatField(label=_("Centre latitude"), required=False, min_value=-90, max_value=90)
    lon = forms.FloatField(
        label=_("Centre longitude"), required=False, min_value=-180, max_value=180
    )
    radius_km = forms.FloatField(label=_("Radius (km)"), required=False, min_value=1, max_value=500)
    bbox = forms.CharField(label=_("or box: min lon, min lat, max lon, max lat"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit_assets(self, user)

    def clean_bbox(self) -> tuple[float, float, float, float] | None:
        raw = self.cleaned_data.get("bbox", "").strip()
        if not raw:
            return None
        try:
            a, b, c, d = (float(p) for p in raw.split(","))
        except ValueError:
            raise forms.ValidationError(_("Four numbers separated by commas.")) from None
        return a, b, c, d
