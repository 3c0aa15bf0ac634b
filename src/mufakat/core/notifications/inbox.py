"""The inbox: alerts grouped into one thread per record, filters, read state and mutes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from mufakat.core.models import Mute, Notification

OLDER_SHOWN = 20  # earlier alerts listed under a thread's latest one


@dataclass(frozen=True)
class InboxFilter:
    module: str = ""
    state: str = ""
    severity: int | None = None
    unread: bool = False

    @classmethod
    def from_query(cls, params: Any) -> InboxFilter:
        """From GET parameters; values that are not valid are ignored like a blank field."""
        sev = str(params.get("severity", "")).strip()
        return cls(
            module=str(params.get("module", "")).strip()[:50],
            state=str(params.get("state", "")).strip().upper()[:2],
            severity=int(sev) if sev.isdigit() else None,
            unread=params.get("unread") in ("1", "true", "on"),
        )


def inbox(user: Any) -> QuerySet[Notification]:
    """The user's own notifications, newest first (nobody reads another's inbox)."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user)


def filtered(qs: QuerySet[Notification], f: InboxFilter) -> QuerySet[Notification]:
    if f.module:
        qs = qs.filter(module=f.module)
    if f.state:
        # JSON list stored as text on SQLite and jsonb on PostgreSQL: the quoted code matches both.
        qs = qs.filter(states__icontains=f'"{f.state}"')
    if f.severity is not None:
        qs = qs.filter(severity=f.severity)
    if f.unread:
        qs = qs.filter(read_at__isnull=True)
    return qs


@dataclass
class Thread:
    """Successive alerts about one record: the latest, the earlier ones and the unread count."""

    latest: Notification
    older: list[Notification]
    count: int
    unread: int
    muted: bool = False

    @property
    def module_name(self) -> str:
        return module_name(self.latest.module)


def threads(qs: QuerySet[Notification]) -> QuerySet[Any]:
    """One row per thread (thread, last pk, count, unread), newest thread first."""
    return (
        qs.values("thread")
        .annotate(last=Max("pk"), n=Count("pk"), unread=Count("pk", filter=Q(read_at__isnull=True)))
        .order_by("-last")
    )


def load_threads(user: Any, rows: list[dict[str, Any]], qs: QuerySet[Notification]) -> list[Thread]:
    """Thread objects for one page of threads() rows."""
    latest = {n.pk: n for n in Notification.objects.filter(pk__in=[r["last"] for r in rows])}
    older: dict[str, list[Notification]] = {}
    keys = [r["thread"] for r in rows]
    for n in qs.filter(thread__in=keys).exclude(pk__in=list(latest)).order_by("-pk"):
        bucket = older.setdefault(n.thread, [])
        if len(bucket) < OLDER_SHOWN:
            bucket.append(n)
    mutes = list(Mute.objects.filter(user_id=user.pk))
    out = []
    for r in rows:
        n = latest[r["last"]]
        muted = any(
            (m.content_type_id is None and m.module == n.module)
            or (m.content_type_id == n.content_type_id and m.object_id == n.object_id)
            for m in mutes
        )
        out.append(Thread(n, older.get(r["thread"], []), r["n"], r["unread"], muted))
    return out


def unread_threads(user: Any) -> int:
    return inbox(user).filter(read_at__isnull=True).values("thread").distinct().count()


def module_name(label: str) -> str:
    """A module's display name (its AppConfig.verbose_name), or the label of a removed one."""
    try:
        return str(apps.get_app_config(label).verbose_name)
    except LookupError:
        return label


def modules_in(user: Any) -> list[tuple[str, str]]:
    """(label, name) of the modules the user has alerts from."""
    labels = set(inbox(user).exclude(module="").values_list("module", flat=True))
    return sorted(((label, module_name(label)) for label in labels), key=lambda m: m[1])


def mark_read(actor: Any, notification_id: int) -> Notification | None:
    """Mark one of the actor's notifications read, with the earlier ones of its thread (reading
    the latest update of a record reads the thread); None when it is not in their inbox."""
    n = inbox(actor).filter(pk=notification_id).first()
    if n is not None and n.read_at is None:
        now = timezone.now()
        n.read_at = now
        n.save(update_fields=["read_at"])
        if n.thread:
            inbox(actor).filter(thread=n.thread, pk__lt=n.pk, read_at__isnull=True).update(
                read_at=now
            )
    return n


def mark_all_read(actor: Any, f: InboxFilter | None = None) -> int:
    """Mark every unread notification of the actor (within a filter, if given) read."""
    qs = filtered(inbox(actor), f) if f is not None else inbox(actor)
    return qs.filter(read_at__isnull=True).update(read_at=timezone.now())


def mute(actor: Any, module: str) -> Mute:
    """Stop alerts to the actor about a module's records (one they have had alerts from).
    Idempotent."""
    if not getattr(actor, "is_authenticated", False):
        raise ValidationError(_("Sign in first."))
    if not module or not inbox(actor).filter(module=module).exists():
        raise ValidationError({"module": _("No alerts from that module to mute.")})
    try:
        with transaction.atomic():
            m, _created = Mute.objects.get_or_create(
                user=actor, module=module, content_type=None, object_id=""
            )
    except IntegrityError:  # a concurrent click created it
        m = Mute.objects.get(user=actor, module=module, content_type=None, object_id="")
    return m


def mute_thread(actor: Any, notification_id: int, *, whole_module: bool = False) -> Mute | None:
    """Mute the record (or its module) an inbox entry is about; None when it is not theirs."""
    n = inbox(actor).filter(pk=notification_id).select_related("content_type").first()
    if n is None:
        return None
    if whole_module or n.content_type is None:
        return mute(actor, n.module)
    # The mute names the record by type and id only: nothing about it is read.
    m, _created = Mute.objects.get_or_create(
        user=actor, module=n.module, content_type=n.content_type, object_id=n.object_id
    )
    return m


def unmute(actor: Any, pk: int) -> bool:
    return bool(Mute.objects.filter(user_id=actor.pk or 0, pk=pk).delete()[0])


def mutes(actor: Any) -> QuerySet[Mute]:
    """The actor's mutes; a record's is labelled with the latest alert title the actor got about
    it (from their own inbox: the record itself is not read)."""
    latest = Notification.objects.filter(
        recipient_id=actor.pk or 0,
        content_type=OuterRef("content_type"),
        object_id=OuterRef("object_id"),
    ).order_by("-pk")
    return Mute.objects.filter(user_id=actor.pk or 0).annotate(
        last_title=Subquery(latest.values("title")[:1])
    )
