from __future__ import annotations

from django.urls import path

from mufakat.cui import taxii, views

app_name = "cui"
urlpatterns = [
    path("", views.map_view, name="map"),
    path("incidents/", views.incident_list, name="incidents"),
    path("incidents/new/", views.incident_new, name="incident_new"),
    path("incidents/export/<str:fmt>/", views.incidents_export, name="incidents_export"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident"),
    path("incidents/<int:pk>/status/", views.incident_status, name="incident_status"),
    path("incidents/<int:pk>/update/", views.incident_update, name="incident_update"),
    path("incidents/<int:pk>/attach/", views.incident_attach, name="incident_attach"),
    path("incidents/<int:pk>/export/<str:fmt>/", views.incident_export, name="incident_export"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("assets/", views.asset_list, name="assets"),
    path("assets/<int:pk>/", views.asset_detail, name="asset"),
    path("assets/options/", views.asset_options, name="asset_options"),
    path("upload/", views.upload, name="upload"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path("geo/cables.geojson", views.cables_geojson, name="cables_geojson"),
    path("geo/pipelines.geojson", views.pipelines_geojson, name="pipelines_geojson"),
    path("geo/landing-points.geojson", views.landing_points_geojson, name="landing_points_geojson"),
    # TAXII 2.1 (read-only): discovery, one API root, its collections and their objects.
    path("taxii2/", taxii.discovery, name="taxii_discovery"),
    path("taxii2/api/", taxii.api_root, name="taxii_root"),
    path("taxii2/api/collections/", taxii.collections, name="taxii_collections"),
    path("taxii2/api/collections/<str:collection_id>/", taxii.collection, name="taxii_collection"),
    path(
        "taxii2/api/collections/<str:collection_id>/objects/",
        taxii.objects,
        name="taxii_objects",
    ),
    path("geo/incidents.geojson", views.incidents_geojson, name="incidents_geojson"),
]
