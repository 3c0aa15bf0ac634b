from __future__ import annotations

from django.urls import path

from tests.sharedapp import views

app_name = "sharedapp"

urlpatterns = [
    path("", views.dossier_list, name="list"),
    path("export.csv", views.dossier_export, name="export"),
    path("places.geojson", views.dossier_places, name="places"),
    path("<int:pk>/", views.dossier_detail, name="detail"),
]
