"""AI API, mounted at /api/core/ai/: status, the approval queue, approve and reject."""

from __future__ import annotations

from datetime import datetime

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from mufakat.core.ai import provenance
from mufakat.core.ai.client import LLMSettings, available
from mufakat.core.ai.views import may_approve_any
from mufakat.core.choices import Action
from mufakat.core.models import AIProvenance, SharedRecord
from mufakat.core.sharing import queries, services

router = Router(tags=["core"])


class AIStatusOut(Schema):
    available: bool
    model: str


class ProvenanceOut(Schema):
    id: int
    generator: str
    model: str
    template_version: str
    requested_by: str | None
    prompt_hash: str
    output_hash: str
    schema_name: str
    schema_mode: str
    schema_enforced: bool | None
    attempts: int
    latency_ms: int | None
    created: datetime
    rejected_by: str | None
    rejected_at: datetime | None
    rejection_reason: str


class AIOutputOut(Schema):
    type: str = Field(description="app_label.model_name of the record")
    id: int
    title: str
    owner: str
    created: datetime
    approved_by: str | None
    approved_at: datetime | None
    rejected: bool
    provenance: list[ProvenanceOut]


class RejectIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)


def _user(u: object) -> str | None:
    return u.get_username() if u is not None else None  # type: ignore[attr-defined]


def _prov(p: AIProvenance) -> ProvenanceOut:
    return ProvenanceOut(
        id=p.pk,
        generator=p.generator,
        model=p.model_name,
        template_version=p.template_version,
        requested_by=_user(p.requested_by),
        prompt_hash=p.prompt_hash,
        output_hash=p.output_hash,
        schema_name=p.schema_name,
        schema_mode=p.schema_mode,
        schema_enforced=p.schema_enforced,
        attempts=p.attempts,
        latency_ms=p.latency_ms,
        created=p.created,
        rejected_by=_user(p.rejected_by),
        rejected_at=p.rejected_at,
        rejection_reason=p.rejection_reason,
    )


def _out(obj: SharedRecord, rows: list[AIProvenance]) -> AIOutputOut:
    return AIOutputOut(
        type=obj._meta.label_lower,
        id=obj.pk,
        title=str(obj)[:200],
        owner=obj.owner_org.code,
        created=obj.created,
        approved_by=_user(obj.ai_approved_by),
        approved_at=obj.ai_approved_at,
        rejected=any(p.rejected_at is not None for p in rows),
        provenance=[_prov(p) for p in rows],
    )


@router.get("/status", response=AIStatusOut)
def ai_status(request: HttpRequest) -> AIStatusOut:
    """Whether an LLM is configured; without one AI features fall back (no network attempt)."""
    return AIStatusOut(available=available(), model=LLMSettings.from_django().model)


@router.get("/pending", response=list[AIOutputOut])
@paginate
def ai_pending(request: HttpRequest) -> list[AIOutputOut]:
    """Every AI output of every module the caller may approve that awaits a decision."""
    if not may_approve_any(request.user):
        raise Http404
    return [_out(i.obj, i.provenance) for i in provenance.pending(request.user)]


def _target(request: HttpRequest, type_label: str, record_id: int) -> SharedRecord:
    model = provenance.shared_model(type_label)
    return queries.access(model, request.user, record_id, Action.APPROVE)


@router.post("/{type_label}/{record_id}/approve", response=AIOutputOut)
def ai_approve(request: HttpRequest, type_label: str, record_id: int) -> AIOutputOut:
    """Release an AI output for sharing (audited); 404 unless the caller may approve it."""
    obj = services.approve_ai_output(request.user, _target(request, type_label, record_id))
    return _out(obj, list(provenance.provenance_of(obj)))


@router.post("/{type_label}/{record_id}/reject", response=AIOutputOut)
def ai_reject(
    request: HttpRequest, type_label: str, record_id: int, payload: RejectIn
) -> AIOutputOut:
    """Refuse an AI output with a reason (audited): it leaves the queue and is never shared."""
    obj = _target(request, type_label, record_id)
    services.reject_ai_output(request.user, obj, reason=payload.reason)
    return _out(obj, list(provenance.provenance_of(obj)))
