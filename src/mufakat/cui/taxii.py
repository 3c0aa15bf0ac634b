"""A read-only TAXII 2.1 server so that OpenCTI, MISP or any TAXII client can pull what a token's
user may see: a collection of undersea incidents (the STIX export, per incident) and one of the
assets (infrastructure objects).

Every read starts from restrict(): incidents from `restrict(user, "export")`, exactly as the
STIX download, assets from `visible_assets(user)`. A token only ever pulls its own user's view.

Paging: objects are ordered by the time they were added to the collection (the record's last
change, so a changed incident comes round again with its new version) and the record's id. The
`next` value is an opaque cursor (added time, record id, object position), so a page holds at most
`limit` objects and no object is skipped or repeated between pages. `added_after` and
`match[type]` / `match[id]` filter before the limit counts.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET

from mufakat.core.accounts.auth import user_for_token
from mufakat.core.choices import Action
from mufakat.core.sharing import queries as core_queries
from mufakat.cui import exports
from mufakat.cui.models import Asset, Incident
from mufakat.cui.queries import BASE_SELECT, visible_assets

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    records: Callable[[Any], Any]  # user -> queryset ordered by (updated, pk)
    objects: Callable[[Any, Any], list[dict[str, Any]]]  # (record, user) -> STIX objects


def _incidents(user: Any) -> Any:
    return (
        core_queries.visible(Incident, user, Action.EXPORT)
        .select_related(*BASE_SELECT)
        .order_by("updated", "pk")
    )


def _incident_objects(inc: Incident, user: Any) -> list[dict[str, Any]]:
    bundle = json.loads(exports.stix_bundle([inc], user).serialize())
    return list(bundle["objects"])


def _assets(user: Any) -> Any:
    return visible_assets(user).order_by("updated", "pk")


def _asset_objects(a: Asset, user: Any) -> list[dict[str, Any]]:
    return [json.loads(exports.infrastructure(a.pk, a.name, a.kind, a.states).serialize())]


COLLECTIONS = {
    c.id: c
    for c in (
        Collection(
            "0c5b8f38-5a1e-4d59-9f3e-6f2a1c7d4e01",
            "Undersea incidents",
            "Incidents you may export, with location, owner identity, TLP 2.0 marking and the "
            "infrastructure they affect.",
            _incidents,
            _incident_objects,
        ),
        Collection(
            "7e2d4a91-3b6c-4f08-8a5d-2c9e1b0f6a02",
            "Undersea assets",
            "Cables and pipelines: public reference routes and your organisation's uploads.",
            _assets,
            _asset_objects,
        ),
    )
}


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    resp = HttpResponse(json.dumps(data), status=status, content_type=TAXII)
    for k, v in (headers or {}).items():
        resp[k] = v
    return resp


def _error(status: int, title: str, description: str = "") -> HttpResponse:
    return _json({"title": title, "description": description, "http_status": str(status)}, status)


def _user(request: HttpRequest) -> Any:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return user_for_token(auth[7:].strip())
    return request.user if request.user.is_authenticated else None


def _accepts_taxii(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "*/*")
    return any(
        part.split(";")[0].strip() in {"application/taxii+json", "*/*", "application/*"}
        and ("version=" not in part or "version=2.1" in part.replace(" ", ""))
        for part in accept.split(",")
    )


def taxii_view(
    fn: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Bearer token (or a browser session), TAXII media type, errors as TAXII error messages."""

    @require_GET
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = _user(request)
        if user is None:
            resp = _error(401, "Authentication required", "Send Authorization: Bearer mfk_…")
            resp["WWW-Authenticate"] = 'Bearer realm="mufakat-taxii"'
            return resp
        if not _accepts_taxii(request):
            return _error(406, "Not acceptable", f"This server answers {TAXII}.")
        return fn(request, user, *args, **kwargs)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


@taxii_view
def discovery(request: HttpRequest, user: Any) -> HttpResponse:
    root = request.build_absolute_uri(reverse("cui:taxii_root"))
    return _json(
        {
            "title": "Mufakat TAXII 2.1",
            "description": "Read-only: undersea incidents and assets, as your account may see them.",
            "default": root,
            "api_roots": [root],
        }
    )


@taxii_view
def api_root(request: HttpRequest, user: Any) -> HttpResponse:
    return _json(
        {
            "title": "Mufakat undersea infrastructure",
            "versions": [TAXII],
            "max_content_length": 10 * 1024 * 1024,
        }
    )


def _collection_info(c: Collection) -> dict[str, Any]:
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "can_read": True,
        "can_write": False,
        "media_types": [STIX],
    }


@taxii_view
def collections(request: HttpRequest, user: Any) -> HttpResponse:
    return _json({"collections": [_collection_info(c) for c in COLLECTIONS.values()]})


@taxii_view
def collection(request: HttpRequest, user: Any, collection_id: str) -> HttpResponse:
    c = COLLECTIONS.get(collection_id)
    if c is None:
        return _error(404, "No such collection")
    return _json(_collection_info(c))


def _timestamp(dt: datetime) -> str:
    return dt.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _encode(added: datetime, pk: int, index: int) -> str:
    raw = f"{_timestamp(added)}|{pk}|{index}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str) -> tuple[datetime, int, int] | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        when, pk, index = raw.split("|")
        dt = parse_datetime(when)
        # A cursor is ours only if it could have been: a 64-bit id and a non-negative index
        # (a hand-made one used to index past the record's objects and answer 500).
        if dt is None or not 0 < int(pk) < 2**63 or not 0 <= int(index) < 10_000:
            return None
        return dt, int(pk), int(index)
    except (ValueError, UnicodeDecodeError):
        return None


@dataclass
class Page:
    objects: list[dict[str, Any]]
    added: list[datetime]
    next: str | None


def _page(
    c: Collection,
    user: Any,
    *,
    after: datetime | None,
    cursor: tuple[datetime, int, int] | None,
    limit: int,
    match: Callable[[dict[str, Any]], bool],
) -> Page:
    qs = c.records(user)
    if after is not None:
        qs = qs.filter(updated__gt=after)
    if cursor is not None:
        when, pk, _index = cursor
        qs = qs.filter(updated__gte=when).exclude(updated=when, pk__lt=pk)
    out: list[dict[str, Any]] = []
    added: list[datetime] = []
    # In chunks, so that a page never loads the whole collection.
    for rec in qs.iterator(chunk_size=200):
        resume = cursor is not None and (rec.updated, rec.pk) == cursor[:2]
        start = cursor[2] if cursor is not None and resume else 0
        objs = c.objects(rec, user)
        for i in range(start, len(objs)):
            if not match(objs[i]):
                continue
            if len(out) == limit:
                return Page(out, added, _encode(rec.updated, rec.pk, i))
            out.append(objs[i])
            added.append(rec.updated)
    return Page(out, added, None)


class BadRequestError(Exception):
    def __init__(self, title: str, description: str) -> None:
        super().__init__(title)
        self.title, self.description = title, description


FILTERS = {"added_after", "limit", "next", "match[type]", "match[id]"}


@dataclass
class Query:
    after: datetime | None
    cursor: tuple[datetime, int, int] | None
    limit: int
    types: set[str]
    ids: set[str]

    @classmethod
    def parse(cls, q: Any) -> Query:
        unknown = set(q) - FILTERS
        if unknown:
            raise BadRequestError("Unsupported parameter", ", ".join(sorted(unknown)))
        after = parse_datetime(q["added_after"]) if q.get("added_after") else None
        if q.get("added_after") and (after is None or after.tzinfo is None):
            raise BadRequestError(
                "Bad added_after", "Give an RFC 3339 time with a zone, e.g. 2026-01-01T00:00:00Z."
            )
        try:
            limit = int(q.get("limit", DEFAULT_LIMIT))
        except ValueError:
            raise BadRequestError("Bad limit", "limit must be a whole number.") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequestError("Bad limit", f"limit must be between 1 and {MAX_LIMIT}.")
        cursor = _decode(q["next"]) if q.get("next") else None
        if q.get("next") and cursor is None:
            raise BadRequestError("Bad next", "Use the next value of the previous page unchanged.")
        return cls(
            after=after,
            cursor=cursor,
            limit=limit,
            types={t for t in q.get("match[type]", "").split(",") if t},
            ids={i for i in q.get("match[id]", "").split(",") if i},
        )

    def match(self, o: dict[str, Any]) -> bool:
        return (not self.types or o["type"] in self.types) and (not self.ids or o["id"] in self.ids)


@taxii_view
def objects(request: HttpRequest, user: Any, collection_id: str) -> HttpResponse:
    """The collection's objects this user may see: `added_after`, `limit`, `next`,
    `match[type]`, `match[id]` (comma-separated lists)."""
    c = COLLECTIONS.get(collection_id)
    if c is None:
        return _error(404, "No such collection")
    try:
        query = Query.parse(request.GET)
    except BadRequestError as exc:
        return _error(400, exc.title, exc.description)
    page = _page(
        c, user, after=query.after, cursor=query.cursor, limit=query.limit, match=query.match
    )
    body: dict[str, Any] = {"more": page.next is not None}
    if page.next is not None:
        body["next"] = page.next
    if page.objects:
        body["objects"] = page.objects
    headers = {}
    if page.added:
        headers["X-TAXII-Date-Added-First"] = _timestamp(page.added[0])
        headers["X-TAXII-Date-Added-Last"] = _timestamp(page.added[-1])
    return _json(body, headers=headers)
