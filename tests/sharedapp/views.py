from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mufakat.core.sharing import queries
from tests.sharedapp.models import Dossier
from tests.sharedapp.queries import export_csv, visible


def dossier_list(request: HttpRequest) -> HttpResponse:
    return render(request, "sharedapp/list.html", {"dossiers": visible(request.user)})


def dossier_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dossier = queries.access(Dossier, request.user, pk)
    return render(request, "sharedapp/detail.html", {"d": dossier})


def dossier_export(request: HttpRequest) -> HttpResponse:
    return HttpResponse(export_csv(request.user), content_type="text/csv")
