"""The TAXII 2.1 server, pulled with the real `taxii2-client` over HTTP from a live server:
discovery, collections, paging, added_after, and per-token restriction through restrict()."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
import requests
from django.test import Client
from django.utils import timezone
from taxii2client.v21 import Server, as_pages

from mufakat.core.accounts.auth import issue_token
from mufakat.core.choices import TLP, Distribution
from mufakat.cui import exports, services
from mufakat.cui.models import Asset, Incident, IncidentType
from mufakat.cui.taxii import COLLECTIONS, TAXII

pytestmark = pytest.mark.django_db(transaction=True)

INCIDENTS, ASSETS = (c.id for c in COLLECTIONS.values())


class Bearer(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: Any) -> Any:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


def server(live_server: Any, user: Any) -> Server:
    _t, raw = issue_token(user, "taxii test")
    return Server(f"{live_server.url}/cui/taxii2/", auth=Bearer(raw))


def report(user: Any, title: str, **kw: Any) -> Incident:
    data: dict[str, Any] = {
        "title": title,
        "incident_type": IncidentType.ANCHOR,
        "lat": 1.2,
        "lon": 104.0,
        "distribution": Distribution.ASEAN,
        "tlp": TLP.GREEN,
        **kw,
    }
    return services.report_incident(user, services.IncidentInput(**data), alert=False)


def incident_names(objects: list[dict[str, Any]]) -> list[str]:
    return [o["name"] for o in objects if o["type"] == "incident"]


def test_pull_with_taxii2_client(live_server: Any, assets: None, people: dict[str, Any]) -> None:
    sg = people["sg_reporter"]
    shared = [report(sg, f"Shared {i}") for i in range(3)]
    report(sg, "SG only", distribution=Distribution.ORGANISATION, tlp=TLP.AMBER)

    srv = server(live_server, people["vn_analyst"])
    assert srv.title == "Mufakat TAXII 2.1"
    [root] = srv.api_roots
    assert root.versions == [TAXII]
    by_title = {c.title: c for c in root.collections}
    assert set(by_title) == {"Undersea incidents", "Undersea assets"}
    incidents = by_title["Undersea incidents"]
    assert incidents.can_read
    assert not incidents.can_write

    # Paging: 7 objects a page; every object arrives once, in order, and pages are full.
    pages = list(as_pages(incidents.get_objects, per_request=7))
    assert len(pages) > 2
    assert all(len(p["objects"]) == 7 for p in pages[:-1])
    assert [p["more"] for p in pages] == [True] * (len(pages) - 1) + [False]
    got = [o for p in pages for o in p["objects"]]
    whole = incidents.get_objects(limit=1000)
    assert got == whole["objects"]
    # VN sees the ASEAN-shared incidents, never SG's own-organisation one.
    assert incident_names(got) == [i.title for i in shared]
    assert "SG only" not in str(got)
    expected = {exports._sid("incident", f"incident:{i.pk}") for i in shared}
    assert {o["id"] for o in got if o["type"] == "incident"} == expected

    # added_after: only what changed after the second incident.
    after = shared[1].updated
    newer = incidents.get_objects(added_after=after.isoformat().replace("+00:00", "Z"))
    assert incident_names(newer["objects"]) == ["Shared 2"]
    later = timezone.now() + timedelta(hours=1)
    empty = incidents.get_objects(added_after=later.isoformat())
    assert empty == {"more": False}

    # A changed incident comes round again after its new time.
    services.change_status(sg, shared[0], "confirmed")
    newer = incidents.get_objects(added_after=after.isoformat())
    assert incident_names(newer["objects"]) == ["Shared 2", "Shared 0"]

    # match[type] filters before paging.
    only = incidents.get_objects(type="location")
    assert {o["type"] for o in only["objects"]} == {"location"}
    assert len(only["objects"]) == 3


def test_owner_token_sees_its_own_incidents_and_assets_page(
    live_server: Any, assets: None, people: dict[str, Any]
) -> None:
    sg = people["sg_reporter"]
    report(sg, "SG only", distribution=Distribution.ORGANISATION, tlp=TLP.AMBER)
    srv = server(live_server, sg)
    cols = {c.id: c for c in srv.api_roots[0].collections}
    assert incident_names(cols[INCIDENTS].get_objects()["objects"]) == ["SG only"]
    pages = list(as_pages(cols[ASSETS].get_objects, per_request=100))
    infra = [o for p in pages for o in p["objects"]]
    assert len(pages) == 4  # 324 public assets
    assert len(infra) == Asset.objects.count() == len({o["id"] for o in infra})
    assert {o["type"] for o in infra} == {"infrastructure"}


def _cursor(index: str, pk: int = 1) -> str:
    raw = f"{timezone.now().isoformat()}|{pk}|{index}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_refusals(live_server: Any, assets: None, people: dict[str, Any]) -> None:
    base = f"{live_server.url}/cui/taxii2/api/collections/"
    anonymous = requests.get(base, headers={"Accept": TAXII}, timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.headers["Content-Type"] == TAXII
    bad_token = Server(f"{live_server.url}/cui/taxii2/", auth=Bearer("mfk_not-a-token"))
    with pytest.raises(requests.HTTPError):
        bad_token.refresh()
    _t, raw = issue_token(people["vn_analyst"], "t")
    h = {"Accept": TAXII, "Authorization": f"Bearer {raw}"}
    objects = f"{base}{INCIDENTS}/objects/"
    for query, title in [
        ("?limit=0", "Bad limit"),
        ("?limit=x", "Bad limit"),
        ("?added_after=yesterday", "Bad added_after"),
        ("?next=%%%", "Bad next"),
        # Hand-made cursors: a negative index used to answer 500 (IndexError), an id past 64
        # bits would overflow the database.
        (f"?next={_cursor('-100000')}", "Bad next"),
        (f"?next={_cursor('0', pk=2**70)}", "Bad next"),
        ("?match[version]=all", "Unsupported parameter"),
    ]:
        r = requests.get(objects + query, headers=h, timeout=10)
        assert (r.status_code, r.json()["title"]) == (400, title), query
    assert requests.get(f"{base}nope/objects/", headers=h, timeout=10).status_code == 404
    xml = requests.get(objects, headers={**h, "Accept": "application/xml"}, timeout=10)
    assert xml.status_code == 406
    # A viewer may read incidents but not export them: the collection stays empty.
    _t, view = issue_token(people["vn_viewer"], "t")
    report(people["sg_reporter"], "Shared")
    got = requests.get(objects, headers={**h, "Authorization": f"Bearer {view}"}, timeout=10)
    assert got.status_code == 200
    assert got.json() == {"more": False}


def test_session_users_can_browse_it(assets: None, people: dict[str, Any]) -> None:
    c = Client()
    c.force_login(people["vn_analyst"])
    r = c.get("/cui/taxii2/api/collections/", headers={"accept": TAXII})
    assert r.status_code == 200
    assert len(r.json()["collections"]) == 2
