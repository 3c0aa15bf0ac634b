"""Django admin for reference data and grants. Shared records are not listed here: the admin
does not go through restrict(), so modules expose them only through their own views."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from mufakat.core.models import (
    AIProvenance,
    AuditEntry,
    Delivery,
    Membership,
    ObjectPermission,
    Organisation,
    Role,
    SharingGroup,
    Webhook,
)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ("flag", "code", "name", "kind", "iso3")
    list_filter = ("kind",)
    search_fields = ("code", "name", "name_long")


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin[Role]):
    list_display = ("slug", "name")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ("user", "organisation", "totp_confirmed")
    list_filter = ("organisation", "roles")
    filter_horizontal = ("roles",)
    exclude = ("totp_secret", "totp_last_step")
    search_fields = ("user__username",)


@admin.register(ObjectPermission)
class ObjectPermissionAdmin(admin.ModelAdmin[ObjectPermission]):
    list_display = ("name", "enabled", "actions", "constraints")
    list_filter = ("enabled", "roles")
    filter_horizontal = ("object_types", "roles", "users", "groups")


@admin.register(SharingGroup)
class SharingGroupAdmin(admin.ModelAdmin[SharingGroup]):
    list_display = ("name", "owner_org", "created")
    filter_horizontal = ("members",)


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin[Webhook]):
    list_display = ("name", "organisation", "url", "enabled")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin[Delivery]):
    list_display = ("channel", "target", "status", "attempts", "created")
    list_filter = ("channel", "status")


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("seq", "time", "actor_name", "action", "object_type", "object_repr")
    list_filter = ("action", "object_type")
    search_fields = ("actor_name", "object_repr", "request_id")


@admin.register(AIProvenance)
class AIProvenanceAdmin(ReadOnlyAdmin):
    list_display = (
        "created",
        "generator",
        "model_name",
        "template_version",
        "outcome",
        "schema_enforced",
        "content_type",
        "object_id",
    )
    list_filter = ("outcome", "schema_enforced")
