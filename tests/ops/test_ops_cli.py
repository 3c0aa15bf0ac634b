"""The `mufakat` console script, run as a person would, on a fresh SQLite data folder."""

from __future__ import annotations

import gzip
import os
import re
import secrets
import signal
import sqlite3
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import brotli  # type: ignore[import-untyped]


def counts(env: dict[str, str]) -> tuple[int, int, int]:
    db = sqlite3.connect(Path(env["MUFAKAT_DATA_DIR"]) / "mufakat.sqlite3")
    try:
        return (
            db.execute("SELECT count(*) FROM auth_user").fetchone()[0],
            db.execute("SELECT count(*) FROM core_membership").fetchone()[0],
            db.execute("SELECT count(*) FROM core_sharinggroup").fetchone()[0],
        )
    finally:
        db.close()


def test_serve_help_lists_its_options(cli: Any, demo_env: dict[str, str]) -> None:
    r = cli("serve", "--help", env=demo_env)
    assert r.returncode == 0
    for option in ("--host", "--port", "--workers", "--no-worker", "--no-migrate"):
        assert option in r.stdout


def test_demo_is_idempotent_and_compact(cli: Any, demo_env: dict[str, str]) -> None:
    first = counts(demo_env)
    # 11 member states x 3 users, sg-admin, au-analyst, jp-analyst; one sharing group.
    assert first == (36, 36, 1)
    again = cli("demo", "--no-serve", env=demo_env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert counts(demo_env) == first
    rows = [line for line in again.stdout.splitlines() if re.match(r"^│ [A-Z]{2} ", line)]
    assert len(rows) == 13  # one row per member state and per partner with users
    sg = next(line for line in rows if line.startswith("│ SG "))
    for name in ("sg-analyst", "sg-viewer", "sg-focal", "sg-admin"):
        assert name in sg
    assert "mufakat-demo-2026" in again.stdout


def test_static_files_are_served_compressed_and_collected_once(
    cli: Any, demo_env: dict[str, str], start_server: Any
) -> None:
    data = Path(demo_env["MUFAKAT_DATA_DIR"])
    stamp = data / "static.fingerprint"
    before = stamp.stat().st_mtime_ns
    assert cli("demo", "--no-serve", env=demo_env).returncode == 0
    assert stamp.stat().st_mtime_ns == before  # nothing changed: not compressed again
    server = start_server(demo_env)
    path = "/static/core/basemap/ne_10m_admin_0_countries_asean.geojson"
    original = (data / "static" / path.removeprefix("/static/")).read_bytes()
    for accept, encoding, decode in (
        ("gzip", "gzip", gzip.decompress),
        ("gzip, deflate, br", "br", brotli.decompress),
    ):
        req = urllib.request.Request(  # noqa: S310 - loopback
            server.url + path, headers={"Accept-Encoding": accept}
        )
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 - loopback
            assert r.headers["Content-Encoding"] == encoding
            body = r.read()
        assert len(body) < len(original) / 3
        assert decode(body) == original


def test_manage_passes_through_to_django(cli: Any, demo_env: dict[str, str]) -> None:
    r = cli("manage", "showmigrations", "core", env=demo_env)
    assert r.returncode == 0, r.stderr
    assert "[X] 0001_initial" in r.stdout
    bad = cli("manage", "no-such-command", env=demo_env)
    assert bad.returncode != 0
    assert "Unknown command" in bad.stderr


def test_totp_prints_a_code_in_development_only(cli: Any, demo_env: dict[str, str]) -> None:
    r = cli("totp", "sg-focal", env=demo_env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.fullmatch(r"\d{6}", r.stdout.strip())
    assert cli("totp", "sg-viewer", env=demo_env).returncode == 1  # no second factor enrolled
    production = {
        **demo_env,
        "MUFAKAT_ENV": "production",
        "MUFAKAT_SECRET_KEY": secrets.token_urlsafe(64),
    }
    refused = cli("totp", "sg-focal", env=production)
    assert refused.returncode == 2
    assert "Refused" in refused.stdout
    assert not re.search(r"^\d{6}$", refused.stdout, re.MULTILINE)


def test_audit_verify_reports_an_intact_chain(cli: Any, demo_env: dict[str, str]) -> None:
    r = cli("audit", "verify", env=demo_env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"Audit chain intact: \d+ entries", r.stdout)


def test_bad_configuration_is_reported_not_a_traceback(cli: Any, demo_env: dict[str, str]) -> None:
    r = cli("audit", "verify", env={**demo_env, "MUFAKAT_ENV": "staging"})
    assert r.returncode == 2
    assert "Configuration error" in r.stdout
    assert "MUFAKAT_ENV must be one of development, test, production" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr


def test_unreachable_database_is_reported_not_a_traceback(
    cli: Any, demo_env: dict[str, str]
) -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    env = {**demo_env, "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/nowhere"}
    r = cli("audit", "verify", env=env)
    assert r.returncode == 2
    assert "Database unavailable" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr


def test_serve_writes_access_lines_only_at_info(
    demo_env: dict[str, str], start_server: Any, wait_until: Any
) -> None:
    quiet = start_server({**demo_env, "MUFAKAT_LOG_LEVEL": "WARNING"})
    chatty = start_server({**demo_env, "MUFAKAT_LOG_LEVEL": "INFO"})
    for server in (quiet, chatty):
        with urllib.request.urlopen(server.url + "/healthz?probe=1", timeout=5) as r:  # noqa: S310
            assert r.status == 200
    wait_until(lambda: "/healthz?probe=1" in chatty.output(), 10, "the access line at INFO")
    assert "/healthz?probe=1" not in quiet.output()


def test_first_demo_serves_compressed_static_files(tmp_path: Path, wait_until: Any) -> None:
    """The README's first command on an empty data folder: the server it starts in the same
    process must already serve the compressed copies it has just collected."""
    from tests.ops.conftest import CLI, clean_env, free_port

    port = free_port()
    env = clean_env(tmp_path / "data")
    log = (tmp_path / "demo.log").open("w")
    proc = subprocess.Popen(  # noqa: S603 - our own console script
        [*CLI, "demo", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/static/core/basemap/ne_50m_admin_0_countries.geojson"
    req = urllib.request.Request(url, headers={"Accept-Encoding": "br"})

    seen: dict[str, str] = {}

    def answered() -> bool:
        assert proc.poll() is None, (tmp_path / "demo.log").read_text()
        try:
            with urllib.request.urlopen(req, timeout=5) as r:  # noqa: S310 - loopback
                seen["encoding"] = r.headers.get("Content-Encoding", "none")
                return True
        except OSError:
            return False

    try:
        wait_until(answered, 120, "`mufakat demo` to serve the basemap")
        assert seen["encoding"] == "br"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
