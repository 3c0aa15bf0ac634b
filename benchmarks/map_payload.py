"""Bytes on the wire for a cold load of the undersea map, uncompressed against compressed.

    python3 -m uv run python benchmarks/map_payload.py

Loads the demo into a fresh data folder (`mufakat demo --no-serve`, which also collects the
static files with their gzip/Brotli copies), starts `mufakat serve` with production settings,
signs in, reads the map page and fetches everything it loads: stylesheets, scripts, the two
basemap layers and the map's GeoJSON layers. Each resource is fetched twice in the same run:
with `Accept-Encoding: identity` (the bytes every browser received before compression was
served, the baseline) and with `gzip, deflate, br` (what Chromium and Firefox send). Counts the
bytes as sent, before decompression, checks both decode to the same content, and prints the
totals with the ratio and the transfer time those bytes take on a 1 Mbit/s and a 256 kbit/s
link (bytes x 8 / rate: arithmetic, not a network measurement).
"""

from __future__ import annotations

import gzip
import html
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import brotli  # type: ignore[import-untyped]
import requests

# Run as a script, so its folder is on sys.path and the sibling run.py imports directly.
from run import CLI, production_env, reserve_port, start_server, stop_server

BROWSER = "gzip, deflate, br"
LINKS = {"1 Mbit/s": 1_000_000, "256 kbit/s": 256_000}


def wire(s: requests.Session, url: str, encoding: str) -> tuple[int, bytes, str]:
    """(bytes as sent, decoded body, content encoding) of one GET."""
    r = s.get(url, headers={"Accept-Encoding": encoding}, stream=True)
    r.raise_for_status()
    raw = r.raw.read(decode_content=False)
    enc = r.headers.get("Content-Encoding", "")
    body = {"gzip": gzip.decompress, "br": brotli.decompress}.get(enc, lambda b: b)(raw)
    return len(raw), body, enc or "none"


def resources(page: str) -> list[str]:
    """What the map page makes a browser fetch: static files and the layers' GeoJSON."""
    found = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    found += re.findall(r'data-(?:world|region)="([^"]+)"', page)
    layers = json.loads(html.unescape(re.findall(r"data-layers='([^']+)'", page)[0]))
    found += [u for k, u in layers.items() if k != "report"]
    return found


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="mufakat-payload-") as tmp:
        env = {**production_env(), "MUFAKAT_DATA_DIR": str(Path(tmp) / "data")}
        subprocess.run([*CLI, "demo", "--no-serve"], env=env, check=True, capture_output=True)
        reservation = reserve_port()
        port = reservation.getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        server = start_server(env, port, 1, Path(tmp) / "server.log", reservation)
        try:
            s = requests.Session()
            s.get(url + "/accounts/login/")
            s.post(
                url + "/accounts/login/",
                data={
                    "username": "my-analyst",
                    "password": "mufakat-demo-2026",
                    "csrfmiddlewaretoken": s.cookies["csrftoken"],
                },
                allow_redirects=False,
            ).raise_for_status()
            page_url = url + "/cui/"
            rows = []
            for path in ["/cui/", *resources(s.get(page_url).text)]:
                plain, body, _ = wire(s, url + path, "identity")
                packed, same, enc = wire(s, url + path, BROWSER)
                if enc != "none" and same != body:  # (the page itself is not compressed)
                    sys.exit(f"{path}: the compressed answer decodes to different content")
                rows.append((path, plain, packed, enc))
        finally:
            stop_server(server)
    print("| resource | uncompressed bytes | sent to a browser | encoding |")
    print("|---|---|---|---|")
    for path, plain, packed, enc in rows:
        print(f"| `{path}` | {plain:,} | {packed:,} | {enc} |")
    total_plain = sum(r[1] for r in rows)
    total_packed = sum(r[2] for r in rows)
    print(f"| **total ({len(rows)} requests)** | **{total_plain:,}** | **{total_packed:,}** | |")
    print(f"\nratio: {total_plain / total_packed:.1f}x fewer bytes")
    for name, bps in LINKS.items():
        print(
            f"on a {name} link: {total_plain * 8 / bps:.1f} s uncompressed, "
            f"{total_packed * 8 / bps:.1f} s compressed"
        )


if __name__ == "__main__":
    main()
