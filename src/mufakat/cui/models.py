"""Undersea infrastructure: assets (cables, pipelines, user layers), their route segments and
landing points, incidents shared under each owner's rules, updates, attachments, subscriptions
and repair ships."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mufakat.core.models import PrivateRecord, ReferenceData, SharedRecord


class AssetKind(models.TextChoices):
    CABLE = "cable", _("Telecom cable")
    PIPELINE = "pipeline", _("Pipeline")
    OTHER = "other", _("Other asset")


class AssetSource(models.TextChoices):
    TELEGEOGRAPHY = "telegeography", _("TeleGeography Submarine Cable Map")
    GEM = "gem", _("Global Energy Monitor")
    UPLOAD = "upload", _("User upload")


ATTRIBUTION: dict[str, str] = {
    AssetSource.TELEGEOGRAPHY: (
        "Submarine cable data: TeleGeography Submarine Cable Map (www.submarinecablemap.com), "
        "snapshot 2022-11-11, CC BY-NC-SA 3.0."
    ),
    AssetSource.GEM: (
        "Pipeline routes: Global Energy Monitor, Global Gas Infrastructure Tracker / Global Oil "
        "Infrastructure Tracker (GOIT-GGIT pipeline routes), CC BY 4.0 as stated by GEM."
    ),
    # Only members of the uploading organisation ever see an uploaded route.
    AssetSource.UPLOAD: "Uploaded by your organisation; visible to your organisation only.",
}


class LandingPoint(ReferenceData):
    """Where a cable comes ashore (TeleGeography landing point)."""

    external_id = models.CharField(_("source id"), max_length=120, unique=True)
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country (ISO alpha-2)"), max_length=2, blank=True, db_index=True)
    country_name = models.CharField(_("country name"), max_length=100, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("landing point")
        verbose_name_plural = _("landing points")

    def __str__(self) -> str:
        return self.name


class Asset(PrivateRecord):
    """A cable, pipeline or uploaded route: a private record, never shared. Imported from public
    sources (owner_org NULL): reference data every signed-in user sees. Uploaded by an
    organisation: private to that organisation (read through restrict())."""

    # Written in bulk by importers: an upload is audited as one entry naming each route it
    # created or whose geometry it changed (services.upload_assets), not one per row.
    audit_exempt = True
    kind = models.CharField(_("kind"), max_length=16, choices=AssetKind.choices, db_index=True)
    source = models.CharField(_("source"), max_length=16, choices=AssetSource.choices)
    external_id = models.CharField(_("source id"), max_length=160)
    name = models.CharField(_("name"), max_length=200, db_index=True)
    owners = models.TextField(_("owners"), blank=True)
    suppliers = models.TextField(_("suppliers"), blank=True)
    rfs_year = models.PositiveSmallIntegerField(
        _("ready for service (year)"), null=True, blank=True
    )
    is_planned = models.BooleanField(_("planned"), default=False)
    length_km = models.FloatField(_("length (km)"), null=True, blank=True)
    url = models.CharField(_("web site"), max_length=300, blank=True)
    states = models.JSONField(_("states served (ISO alpha-2)"), default=list, blank=True)
    landing_points = models.ManyToManyField(
        LandingPoint, blank=True, related_name="assets", verbose_name=_("landing points")
    )
    geometry = models.JSONField(_("route (GeoJSON geometry)"), default=dict)
    properties = models.JSONField(_("source properties"), default=dict, blank=True)
    colour = models.CharField(_("colour"), max_length=7, blank=True)
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                name="%(app_label)s_%(class)s_unique_source_external_id",
                violation_error_message=_("This asset was already imported from that source."),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def attribution(self) -> str:
        return ATTRIBUTION.get(self.source, "")


class Segment(models.Model):
    """One two-point piece of an asset's route; the spatial index is built over these."""

    audit_exempt = True  # derived in bulk from Asset.geometry on every import

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="segments")
    seq = models.PositiveIntegerField(_("sequence"))
    lon1 = models.FloatField()
    lat1 = models.FloatField()
    lon2 = models.FloatField()
    lat2 = models.FloatField()

    class Meta:
        ordering = ["asset", "seq"]
        verbose_name = _("route segment")
        verbose_name_plural = _("route segments")
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "seq"], name="%(app_label)s_%(class)s_unique_asset_seq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.asset_id}#{self.seq}"


class IncidentType(models.TextChoices):
    FAULT = "fault", _("Fault")
    CUT = "cut", _("Cut")
    DAMAGE = "damage", _("Damage")
    ANCHOR = "anchor_strike", _("Anchor strike")
    FISHING = "fishing_gear", _("Fishing gear")
    DELIBERATE = "suspected_deliberate", _("Suspected deliberate act")
    NATURAL = "natural_hazard", _("Natural hazard")
    UNKNOWN = "unknown", _("Unknown")


class Severity(models.IntegerChoices):
    """Impact scale in the spirit of ReCAAP's CAT 1-4: capacity lost x time to restore."""

    LOW = 1, _("1 - minor, no service loss")
    MODERATE = 2, _("2 - degraded, traffic rerouted")
    SERIOUS = 3, _("3 - link down, partial national impact")
    CRITICAL = 4, _("4 - critical, state-wide outage")


class Status(models.TextChoices):
    REPORTED = "reported", _("Reported")
    CONFIRMED = "confirmed", _("Confirmed")
    REPAIR_PLANNED = "repair_planned", _("Repair planned")
    UNDER_REPAIR = "under_repair", _("Under repair")
    RESTORED = "restored", _("Restored")
    CLOSED = "closed", _("Closed")


# The lifecycle. A report may be closed straight away (false alarm); a repair may fail and resume.
TRANSITIONS: dict[str, set[str]] = {
    Status.REPORTED: {Status.CONFIRMED, Status.CLOSED},
    Status.CONFIRMED: {Status.REPAIR_PLANNED, Status.RESTORED, Status.CLOSED},
    Status.REPAIR_PLANNED: {Status.UNDER_REPAIR, Status.RESTORED},
    Status.UNDER_REPAIR: {Status.RESTORED, Status.REPAIR_PLANNED},
    Status.RESTORED: {Status.CLOSED, Status.UNDER_REPAIR},
    Status.CLOSED: set(),
}


class Incident(SharedRecord):
    """A reported fault, cut or damage on undersea infrastructure; owned and shared by one state."""

    title = models.CharField(_("title"), max_length=200)
    incident_type = models.CharField(
        _("type"), max_length=24, choices=IncidentType.choices, default=IncidentType.UNKNOWN
    )
    occurred_at = models.DateTimeField(_("time of incident"), db_index=True)
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    uncertainty_km = models.FloatField(_("position uncertainty (km)"), default=1.0)
    asset = models.ForeignKey(
        Asset,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("asset"),
    )
    segment = models.ForeignKey(
        Segment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("segment"),
    )
    depth_m = models.FloatField(_("depth (m)"), null=True, blank=True)
    severity = models.PositiveSmallIntegerField(
        _("severity"), choices=Severity.choices, default=Severity.MODERATE
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.REPORTED, db_index=True
    )
    description = models.TextField(_("description"), blank=True)
    impact_radius_km = models.FloatField(_("impact radius (km)"), default=50.0)
    impact = models.JSONField(_("impact analysis"), default=dict, blank=True)
    affected_states = models.JSONField(_("affected states"), default=list, blank=True)
    affected_assets = models.ManyToManyField(
        Asset, blank=True, related_name="affecting_incidents", verbose_name=_("affected assets")
    )
    restored_at = models.DateTimeField(_("restored at"), null=True, blank=True)
    external_ref = models.CharField(_("external reference"), max_length=200, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        verbose_name = _("undersea incident")
        verbose_name_plural = _("undersea incidents")

    def __str__(self) -> str:
        return self.title

    @property
    def reference(self) -> str:
        return f"CUI-{self.pk:05d}" if self.pk else "CUI-new"

    def allowed_next(self) -> list[str]:
        return sorted(TRANSITIONS[self.status], key=[s.value for s in Status].index)

    def next_forward(self) -> str | None:
        """The usual next step: the first allowed status further along the lifecycle (a
        failed repair going back to "planned" is allowed, but never the default)."""
        order = [s.value for s in Status]
        ahead = [s for s in self.allowed_next() if order.index(s) > order.index(self.status)]
        return ahead[0] if ahead else None


class IncidentUpdate(models.Model):
    """One entry in an incident's timeline; visible to whoever may see the incident."""

    audit_parent = "incident"  # audited with the incident's organisation (core.audit)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(_("time"), auto_now_add=True)
    status_from = models.CharField(_("from"), max_length=16, choices=Status.choices, blank=True)
    status_to = models.CharField(_("to"), max_length=16, choices=Status.choices, blank=True)
    text = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["created", "pk"]
        verbose_name = _("incident update")
        verbose_name_plural = _("incident updates")

    def __str__(self) -> str:
        return f"{self.incident_id}: {self.status_from}→{self.status_to}"


def attachment_path(instance: IncidentAttachment, filename: str) -> str:
    return f"cui/incidents/{instance.incident_id}/{filename}"


class IncidentAttachment(models.Model):
    """A file attached to an incident (photo, survey report); visible with the incident."""

    audit_parent = "incident"
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path)
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        ordering = ["created"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


class SubscriptionKind(models.TextChoices):
    """What the alerts page offers to follow: core's state and area kinds, and cui's asset kind
    (mufakat.cui.subscriptions). Subscriptions themselves are core's (core.Subscription)."""

    ASSET = "asset", _("Asset")
    AREA = "area", _("Area")
    STATE = "state", _("State")


class RepairShip(ReferenceData):
    """A cable repair or maintenance vessel that could be tasked to a fault (public facts)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    operator = models.CharField(_("operator"), max_length=200, blank=True)
    home_port = models.CharField(_("home port"), max_length=120)
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    speed_knots = models.FloatField(_("transit speed (kn)"), default=12.0)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("repair ship")
        verbose_name_plural = _("repair ships")

    def __str__(self) -> str:
        return self.name
