from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from mufakat.core import registry
from mufakat.core.sharing import queries
from tests.sharedapp.models import Dossier
from tests.sharedapp.queries import export_csv, places, visible


def dossier_list(request: HttpRequest) -> HttpResponse:
    # The module setting hook: the page size comes from MUFAKAT_SHAREDAPP_PAGE_SIZE.
    size = int(registry.setting("MUFAKAT_SHAREDAPP_PAGE_SIZE"))
    return render(request, "sharedapp/list.html", {"dossiers": visible(request.user)[:size]})


def dossier_places(request: HttpRequest) -> JsonResponse:
    return JsonResponse(places(request.user))


def dossier_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dossier = queries.access(Dossier, request.user, pk)
    return render(request, "sharedapp/detail.html", {"d": dossier})


def dossier_export(request: HttpRequest) -> HttpResponse:
    return HttpResponse(export_csv(request.user), content_type="text/csv")
