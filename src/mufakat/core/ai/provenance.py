"""Provenance of AI output: one row per call, attached to the artefact it produced, and the
approval queue built from it.

Approval and rejection themselves are `core.services.approve_ai_output` / `reject_ai_output`
(same grant checks as every other release step); this module finds what waits for them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models.functions import Cast
from django.http import Http404

from mufakat.core.ai.prompts import describe_untrusted
from mufakat.core.audit import log as audit
from mufakat.core.choices import Action, AuditAction
from mufakat.core.models import AIProvenance, SharedRecord
from mufakat.core.ops import context
from mufakat.core.sharing.querysets import has_grant


def _requester(user: Any) -> Any:
    if user is None:
        ctx = context.current()
        user = ctx.user if ctx is not None else None
    return user if getattr(user, "is_authenticated", False) else None


def inputs_record(inputs: Mapping[str, Any] | None, untrusted: Mapping[str, str]) -> dict[str, Any]:
    """The `inputs` column: the caller's facts (must be JSON) plus hashes of the untrusted text."""
    record: dict[str, Any] = dict(inputs or {})
    try:
        json.dumps(record)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"provenance inputs must be JSON-serialisable: {exc}") from None
    if untrusted:
        record["untrusted"] = describe_untrusted(untrusted)
    return record


@dataclass
class Call:
    """What is known about a call before it runs; `save` writes its provenance row."""

    generator: str
    model_name: str
    template_version: str
    inputs: dict[str, Any]
    requested_by: Any
    prompt_hash: str
    schema_name: str = ""

    def save(
        self,
        *,
        outcome: str,
        output_hash: str = "",
        schema_mode: str = "",
        schema_enforced: bool | None = None,
        attempts: int = 1,
        latency: float | None = None,
        error: str = "",
    ) -> AIProvenance:
        return AIProvenance.objects.create(
            generator=self.generator[:200],
            model_name=self.model_name[:200],
            template_version=self.template_version[:100],
            inputs=self.inputs,
            requested_by=_requester(self.requested_by),
            prompt_hash=self.prompt_hash,
            output_hash=output_hash,
            schema_name=self.schema_name[:200],
            schema_mode=schema_mode,
            schema_enforced=schema_enforced,
            attempts=attempts,
            latency_ms=None if latency is None else round(latency * 1000),
            outcome=outcome,
            error=error[:2000],
        )


class HasProvenance(Protocol):
    @property
    def provenance(self) -> AIProvenance: ...


def attach(
    artefact: SharedRecord, result: HasProvenance | AIProvenance, *, requested_by: Any = None
) -> AIProvenance:
    """Link a successful call's provenance to the (saved) artefact it produced and flag the
    artefact AI-generated, so it stays in its organisation until a person approves it.

    One call may produce several artefacts: each gets its own copy of the row.
    """
    record = result if isinstance(result, AIProvenance) else result.provenance
    if artefact.pk is None:
        raise ValueError("save the artefact (through its service) before attaching provenance")
    if record.outcome != AIProvenance.Outcome.OK:
        raise ValueError("a failed AI call has no output to attach")
    ct = ContentType.objects.get_for_model(artefact)
    with transaction.atomic():
        if record.content_type_id is not None and (
            record.content_type_id != ct.pk or record.object_id != str(artefact.pk)
        ):
            # A copy for this artefact (a fresh instance: the caller's object keeps its link).
            record = AIProvenance.objects.get(pk=record.pk)
            record.pk = None
            record._state.adding = True
        record.content_type = ct
        record.object_id = str(artefact.pk)
        who = _requester(requested_by)
        if who is not None:
            record.requested_by = who
        record.save()
        if not artefact.ai_generated:
            artefact.ai_generated = True
            artefact.save(update_fields=["ai_generated", "updated"])
        audit.record(
            AuditAction.GENERATE,
            artefact,
            actor=who,
            after={
                "provenance": record.pk,
                "generator": record.generator,
                "model": record.model_name,
                "template_version": record.template_version,
                "prompt_hash": record.prompt_hash,
                "output_hash": record.output_hash,
                "schema_enforced": record.schema_enforced,
            },
            message="AI output recorded",
        )
    return record


def provenance_of(obj: models.Model) -> models.QuerySet[AIProvenance]:
    return AIProvenance.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    ).select_related("requested_by", "rejected_by")


def is_rejected(obj: models.Model) -> bool:
    return provenance_of(obj).filter(rejected_at__isnull=False).exists()


def shared_models() -> Iterator[type[SharedRecord]]:
    """Every concrete shared record type of every installed module."""
    for model in apps.get_models():
        if issubclass(model, SharedRecord) and not model._meta.abstract:
            yield model


def shared_model(label: str) -> type[SharedRecord]:
    """`app_label.model_name` of a shared record type; Http404 for anything else."""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        raise Http404 from None
    if not issubclass(model, SharedRecord):
        raise Http404
    return model


def _pending_qs(model: type[SharedRecord], user: Any) -> models.QuerySet[Any]:
    rejected = AIProvenance.objects.filter(
        content_type=ContentType.objects.get_for_model(model),
        object_id=Cast(models.OuterRef("pk"), models.CharField()),
        rejected_at__isnull=False,
    )
    return (
        model._default_manager.restrict(user, Action.APPROVE)
        .filter(ai_generated=True, ai_approved_at__isnull=True)
        .filter(~models.Exists(rejected))
        .select_related("owner_org", "created_by")
    )


@dataclass(frozen=True)
class PendingItem:
    obj: SharedRecord
    provenance: list[AIProvenance]

    @property
    def type_label(self) -> str:
        return self.obj._meta.label_lower

    @property
    def type_name(self) -> str:
        return str(self.obj._meta.verbose_name)

    @property
    def url(self) -> str:
        get = getattr(self.obj, "get_absolute_url", None)
        return str(get()) if callable(get) else ""


def pending(user: Any) -> list[PendingItem]:
    """Every AI output of every module that `user` may approve and nobody decided on yet,
    newest first. Read through restrict(user, "approve"): only the owner state's approvers."""
    items: list[PendingItem] = []
    for model in shared_models():
        if not has_grant(user, model, Action.APPROVE):
            continue
        objs = list(_pending_qs(model, user))
        if not objs:
            continue
        rows: dict[str, list[AIProvenance]] = {}
        for p in AIProvenance.objects.filter(
            content_type=ContentType.objects.get_for_model(model),
            object_id__in=[str(o.pk) for o in objs],
        ).select_related("requested_by"):
            rows.setdefault(p.object_id, []).append(p)
        items.extend(PendingItem(obj=o, provenance=rows.get(str(o.pk), [])) for o in objs)
    items.sort(key=lambda i: i.obj.created, reverse=True)
    return items


def pending_count(user: Any) -> int:
    return sum(
        _pending_qs(model, user).count()
        for model in shared_models()
        if has_grant(user, model, Action.APPROVE)
    )
