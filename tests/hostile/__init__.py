"""A corpus of hostile input, shared by the tests that throw it at every upload, import and API
body: huge numbers, deep nesting, non-numbers, lone surrogates, NUL, extreme dates, XML bombs."""

from __future__ import annotations

from dataclasses import dataclass

DEEP = 60_000  # past the recursion limit of every parser and walker on the way


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes


def _feature_collection(coords: str, name: str = '"Hostile route"') -> bytes:
    return (
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":'
        + name
        + ',"kind":"cable"},"geometry":{"type":"LineString","coordinates":'
        + coords
        + "}}]}"
    ).encode()


# JSON that Python's json module parses (or nearly), but that no field of ours can hold.
JSON_CASES: list[Case] = [
    Case("int-400-digits", _feature_collection("[[" + "1" * 400 + ",1],[104,2]]")),
    Case("int-4301-digits", _feature_collection("[[" + "9" * 4301 + ",1],[104,2]]")),
    Case("float-1e400", _feature_collection("[[1e400,1],[104,2]]")),
    Case("nan", _feature_collection("[[NaN,1],[104,2]]")),
    Case("infinity", _feature_collection("[[Infinity,1],[104,2]]")),
    Case("minus-infinity", _feature_collection("[[-Infinity,1],[104,2]]")),
    Case("deep-arrays", _feature_collection("[" * DEEP + "]" * DEEP)),
    Case("deep-objects", ('{"a":' * DEEP + "1" + "}" * DEEP).encode()),
    Case("deep-100", _feature_collection("[" * 100 + "1" + "]" * 100)),
    Case("lone-surrogate-name", _feature_collection("[[104,1],[105,2]]", '"bad \\ud800 name"')),
    Case("lone-low-surrogate", _feature_collection("[[104,1],[105,2]]", '"\\udfff"')),
    Case("escaped-nul", _feature_collection("[[104,1],[105,2]]", '"a\\u0000b"')),
    Case("raw-nul", _feature_collection("[[104,1],[105,2]]", '"a\x00b"')),
    Case("not-utf8", b'{"type":"FeatureCollection","features":[], "x":"\xff\xfe"}'),
    Case("truncated", b'{"type":"FeatureCollection","features":['),
    Case("empty-object", b"{}"),
    Case("array-top", b"[1,2,3]"),
    Case("string-top", b'"just a string"'),
    Case("huge-key-count", ("{" + ",".join(f'"k{i}":{i}' for i in range(20_000)) + "}").encode()),
]

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&lol4;</name>
<LineString><coordinates>104,1 105,2</coordinates></LineString></Placemark></kml>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&xxe;</name>
<LineString><coordinates>104,1 105,2</coordinates></LineString></Placemark></kml>"""


def _kml(coords: str, name: str = "Hostile") -> bytes:
    return (
        '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>'
        + name
        + "</name><LineString><coordinates>"
        + coords
        + "</coordinates></LineString></Placemark></kml>"
    ).encode()


# XML nested this deep is parsed by expat without recursion: well-formed, so it may be imported.
DEEP_KML = Case(
    "deep-elements",
    _kml("104,1 105,2")
    .replace(b"<Placemark>", b"<a>" * DEEP + b"<Placemark>")
    .replace(b"</Placemark>", b"</Placemark>" + b"</a>" * DEEP),
)

KML_CASES: list[Case] = [
    Case("billion-laughs", BILLION_LAUGHS),
    Case("external-entity", EXTERNAL_ENTITY),
    Case("huge-number", _kml("1" + "0" * 400 + ",1 105,2")),
    Case("nan-coordinate", _kml("nan,1 105,2")),
    Case("inf-coordinate", _kml("inf,1 105,2")),
    Case("char-ref-nul", _kml("104,1 105,2", "a&#0;b")),
    Case("raw-nul", _kml("104,1 105,2", "a\x00b")),
    Case("not-xml", b"<kml><Placemark>"),
]


def stix_bundle(
    *,
    occurred: object = "2026-03-01T00:00:00Z",
    depth: object = 40,
    lat: object = 1.2,
    lon: object = 104.0,
    name: str = '"Hostile incident"',
    raw_depth: str | None = None,
) -> bytes:
    """A STIX 2.1 bundle with one located incident, fields written as raw JSON text."""
    import json

    depth_text = raw_depth if raw_depth is not None else json.dumps(depth)
    return (
        '{"type":"bundle","id":"bundle--6a7b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d","objects":['
        '{"type":"incident","spec_version":"2.1","id":"incident--1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",'
        '"created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","name":'
        + name
        + ',"x_mufakat_occurred_at":'
        + json.dumps(occurred)
        + ',"x_mufakat_depth_m":'
        + depth_text
        + '},{"type":"location","spec_version":"2.1","id":"location--2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",'
        '"created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","latitude":'
        + json.dumps(lat)
        + ',"longitude":'
        + json.dumps(lon)
        + '},{"type":"relationship","spec_version":"2.1","id":"relationship--3d4e5f6a-7b8c-4d9e-8f0a-2b3c4d5e6f7a",'
        '"created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z",'
        '"relationship_type":"located-at","source_ref":"incident--1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",'
        '"target_ref":"location--2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"}]}'
    ).encode()


STIX_CASES: list[Case] = [
    Case("date-2026-13-45", stix_bundle(occurred="2026-13-45T00:00:00Z")),
    Case("date-9999", stix_bundle(occurred="9999-12-31T23:59:59Z")),
    Case("date-0001-offset", stix_bundle(occurred="0001-01-01T00:00:00+14:00")),
    Case("date-garbage", stix_bundle(occurred="yesterday")),
    Case("depth-negative", stix_bundle(depth=-5000)),
    Case("depth-1e308", stix_bundle(depth=1e308)),
    Case("depth-nan", stix_bundle(raw_depth="NaN")),
    Case("depth-string", stix_bundle(depth="deep")),
    Case("depth-huge-int", stix_bundle(raw_depth="9" * 5000)),
    Case("lat-91", stix_bundle(lat=91)),
    Case("lon-181", stix_bundle(lon=181)),
    Case("name-surrogate", stix_bundle(name='"\\ud800"')),
    Case("name-nul", stix_bundle(name='"a\\u0000b"')),
    Case("deep-bundle", b'{"type":"bundle","objects":[' + b"[" * 60_000 + b"]" * 60_000 + b"]}"),
]
