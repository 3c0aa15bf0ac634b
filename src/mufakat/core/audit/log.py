"""Hash-chained audit log: append, snapshot and verify."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from mufakat.core.models import AuditEntry, AuditHead, Organisation, user_org
from mufakat.core.ops import context

GENESIS = "0" * 64
SECRET_FIELDS = frozenset({"password", "totp_secret", "digest", "secret"})


def snapshot(obj: models.Model) -> dict[str, Any]:
    """JSON-safe field values of a model instance (many-to-many as sorted ids), secrets masked."""
    import json

    data = model_to_dict(obj)
    for m2m in obj._meta.many_to_many:
        if m2m.name in data:
            data[m2m.name] = sorted(o.pk for o in data[m2m.name]) if obj.pk is not None else []
    for name in SECRET_FIELDS & data.keys():
        data[name] = "***"
    for f in obj._meta.concrete_fields:
        if getattr(f, "geography", False):
            data.pop(f.name, None)
    data["id"] = obj.pk
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder, default=str))  # type: ignore[no-any-return]


def audit_parent(obj: models.Model) -> models.Model | None:
    """The record a child (a note, an attachment, a provenance row) belongs to, if it declares
    one with `audit_parent = "<field>"`: it is audited with its parent's organisation."""
    name = getattr(type(obj), "audit_parent", "")
    parent = getattr(obj, name, None) if name else None
    return parent if isinstance(parent, models.Model) else None


def record_org(obj: models.Model) -> Organisation | None:
    org = getattr(obj, "owner_org", None) or getattr(obj, "organisation", None)
    if org is None:
        parent = audit_parent(obj)
        if parent is not None:
            org = getattr(parent, "owner_org", None) or getattr(parent, "organisation", None)
    return org if isinstance(org, Organisation) else None


# Objects whose changes are being written as one logical change (see logical_change): the
# save/delete/m2m signal receivers stay silent for them and for their declared children.
_in_change: ContextVar[tuple[models.Model, ...]] = ContextVar("mufakat_audit_in_change", default=())


def _same(a: models.Model, b: models.Model) -> bool:
    return a is b or (type(a) is type(b) and a.pk is not None and a.pk == b.pk)


def is_suspended(obj: models.Model) -> bool:
    """True inside a logical_change of `obj` or of the parent it declares."""
    held = _in_change.get()
    if not held:
        return False
    parent = audit_parent(obj)
    return any(_same(h, obj) or (parent is not None and _same(h, parent)) for h in held)


@contextmanager
def logical_change(
    obj: models.Model, action: str, message: str = "", **kw: Any
) -> Iterator[models.Model]:
    """Write several saves of one record (its row, its many-to-many sets, its child notes and
    attachments) as ONE audit entry: the snapshot before (taken on entry, None for a new record)
    and after (taken on exit, many-to-many included). Signal receivers are silent for `obj` and
    its children inside the block; outside it (e.g. admin edits) they audit each save as before.

    Nested inside a logical change of the same record, the block adds nothing: the outer
    change writes the entry. The entry is part of the block's transaction, so a rolled-back
    change leaves no entry either.
    """
    if is_suspended(obj):
        yield obj
        return
    before = snapshot(obj) if obj.pk is not None else None
    token = _in_change.set((*_in_change.get(), obj))
    try:
        with transaction.atomic():
            yield obj
            record(action, obj, before=before, after=snapshot(obj), message=message, **kw)
    finally:
        _in_change.reset(token)


def record(
    action: str,
    obj: models.Model | None = None,
    *,
    actor: Any = None,
    org: Organisation | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    message: str = "",
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
) -> AuditEntry:
    """Append one entry to the chain, inside the caller's transaction if there is one."""
    ctx = context.current()
    if actor is None and ctx is not None:
        actor = ctx.user
    if not getattr(actor, "is_authenticated", False):
        actor = None
    if org is None and obj is not None:
        org = record_org(obj)
    if org is None and actor is not None:
        org = user_org(actor)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    with transaction.atomic():
        # Lock the tip: concurrent writers queue here, so each entry links to exactly one parent.
        head, _ = AuditHead.objects.select_for_update().get_or_create(id=1)
        entry = AuditEntry(
            seq=head.last_seq + 1,
            actor=actor,
            actor_name=(actor.get_username() if actor else "system"),
            org=org if isinstance(org, Organisation) else None,
            request_id=ctx.request_id if ctx else "",
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_repr=object_repr[:200],
            before=before,
            after=after,
            message=message,
            prev_hash=head.last_hash,
        )
        entry.hash = entry.compute_hash()
        entry.save()
        head.last_seq = entry.seq
        head.last_hash = entry.hash
        head.save(update_fields=["last_seq", "last_hash"])
    return entry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


def verify(entries: Iterable[AuditEntry] | None = None) -> VerifyResult:
    """Walk the chain in order; report the first entry whose link or content does not match."""
    qs = (
        entries
        if entries is not None
        else AuditEntry.objects.order_by("seq").iterator(chunk_size=2000)
    )
    prev = GENESIS
    expected_seq = 1
    n = 0
    for e in qs:
        n += 1
        if e.seq != expected_seq:
            return VerifyResult(
                False, n, expected_seq, f"entry #{expected_seq} is missing (found #{e.seq})"
            )
        if e.prev_hash != prev:
            return VerifyResult(False, n, e.seq, "link to the previous entry is broken")
        if e.compute_hash() != e.hash:
            return VerifyResult(False, n, e.seq, "content does not match its hash")
        prev = e.hash
        expected_seq += 1
    head = AuditHead.objects.filter(id=1).first()
    if head is not None and head.last_seq != n:
        return VerifyResult(
            False, n, n + 1, f"chain ends at #{n} but the tip says #{head.last_seq}"
        )
    # The tip also pins the last hash, so rewriting the newest entry and its hash together shows.
    if head is not None and n and head.last_hash != prev:
        return VerifyResult(False, n, n, "the last entry does not match the recorded chain tip")
    return VerifyResult(True, n)


# Anchors: the chain tip written down outside the database. The chain shows tampering by anyone
# who cannot also rewrite the rest of it; an operator with write access to the database can
# recompute every hash and the tip. An anchor kept elsewhere (another machine, a signed report,
# a partner state's records) pins what the chain said at that time, so such a rewrite of any
# entry up to an anchored one shows (`mufakat audit anchor`, `mufakat audit verify --anchors`).
ANCHOR_PREFIX = "mufakat-audit-anchor v1"


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    time: str  # ISO 8601, when the anchor was taken

    def line(self) -> str:
        return f"{ANCHOR_PREFIX} seq={self.seq} hash={self.hash} time={self.time}"

    @classmethod
    def parse(cls, line: str) -> Anchor:
        """Read one line written by line(); ValueError names what is wrong."""
        if not line.startswith(ANCHOR_PREFIX + " "):
            raise ValueError(f"not an anchor line: {line[:80]!r}")
        fields = dict(
            part.split("=", 1) for part in line[len(ANCHOR_PREFIX) + 1 :].split() if "=" in part
        )
        try:
            seq, digest, time = int(fields["seq"]), fields["hash"], fields["time"]
        except (KeyError, ValueError):
            raise ValueError(f"anchor line without seq, hash and time: {line[:80]!r}") from None
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"anchor hash is not 64 hex digits: {line[:80]!r}")
        return cls(seq, digest, time)


def anchor() -> Anchor:
    """The chain tip now, as an anchor to store outside the database."""
    head = AuditHead.objects.filter(id=1).first()
    return Anchor(
        seq=head.last_seq if head else 0,
        hash=head.last_hash if head else GENESIS,
        time=timezone.now().isoformat(timespec="seconds"),
    )


def check_anchors(anchors: Iterable[Anchor]) -> VerifyResult:
    """Every anchored entry must still exist with the anchored hash. Run after verify(): a
    chain that is intact but disagrees with an anchor was rewritten as a whole."""
    wanted = list(anchors)
    found = dict(
        AuditEntry.objects.filter(seq__in=[a.seq for a in wanted]).values_list("seq", "hash")
    )
    for a in sorted(wanted, key=lambda a: a.seq):
        if a.seq == 0:
            continue  # anchored an empty chain: nothing to compare
        if a.seq not in found:
            return VerifyResult(
                False, len(wanted), a.seq, f"entry #{a.seq}, anchored at {a.time}, is gone"
            )
        if found[a.seq] != a.hash:
            return VerifyResult(
                False,
                len(wanted),
                a.seq,
                f"entry #{a.seq} no longer matches its anchor of {a.time}: the chain up to it "
                "was rewritten",
            )
    return VerifyResult(True, len(wanted))
