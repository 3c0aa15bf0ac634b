from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from mufakat.api import OptionalAuth, TokenAuth
from mufakat.core.sharing import queries, services
from tests.sharedapp.models import Dossier
from tests.sharedapp.queries import search, visible

router = Router(tags=["sharedapp"], auth=[TokenAuth(), OptionalAuth(csrf=True)])


class DossierOut(Schema):
    id: int
    title: str
    body: str
    distribution: str
    tlp: str


class DossierIn(Schema):
    title: str
    body: str = ""


@router.get("/dossiers", response=list[DossierOut])
def list_dossiers(request: HttpRequest, q: str = "") -> Any:
    if q:
        return list(Dossier.objects.filter(pk__in=search(request.user, q)))
    return list(visible(request.user))


@router.get("/dossiers/{dossier_id}", response=DossierOut)
def get_dossier(request: HttpRequest, dossier_id: int) -> Dossier:
    return queries.access(Dossier, request.user, dossier_id)


@router.post("/dossiers", response={201: DossierOut})
def create_dossier(request: HttpRequest, payload: DossierIn) -> Status[Dossier]:
    d = services.guarded_write(request.user, Dossier(title=payload.title, body=payload.body), "add")
    return Status(201, d)
