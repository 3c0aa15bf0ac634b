"""The whole check suite, as CI runs it: `uv run --frozen scripts/test.py [pytest args]`.

Steps, in order; the first failure stops the run with a non-zero exit:
 0. the `llm` dependency group (llama.cpp serving SmolLM2 for the core.ai tests), added to the
    environment; the first time on a machine it compiles llama.cpp (about 13 minutes), later
    runs take it from uv's cache
 1. Debian chromium (browser tests) and GNU gettext (catalogue checks), installed with apt when
    missing and running as root
 2. ruff check, ruff format --check, mypy (strict)
 3. `mufakat manage makemigrations --check --dry-run`
 4. `mufakat manage check --deploy` with production settings
 5. pytest on SQLite
 6. pytest on PostgreSQL (127.0.0.1:5432, started with pg_ctlcluster when installed but stopped),
    which includes the check of two ASGI workers sharing sessions and data
    (tests/test_ops_workers.py); skipped with a notice when no PostgreSQL server exists.

Environment: MUFAKAT_TEST_DATABASE_URL (default: DATABASE_URL when it is a PostgreSQL URL, else
postgresql://root@127.0.0.1:5432/mufakat) names the PostgreSQL database whose `test_` copy pytest
creates; MUFAKAT_TEST_REDIS_URL (default redis://127.0.0.1:6379/13) is the Redis database the
queue tests may flush.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
DEFAULT_PG_URL = "postgresql://root@127.0.0.1:5432/mufakat"


def banner(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def run(name: str, cmd: list[str], env: dict[str, str] | None = None) -> None:
    banner(name)
    print("$ " + " ".join(cmd), flush=True)
    started = time.monotonic()
    code = subprocess.call(cmd, cwd=ROOT, env=env)
    took = time.monotonic() - started
    if code != 0:
        print(f"\n\033[31mFAILED: {name} (exit {code}, {took:.0f}s)\033[0m", flush=True)
        sys.exit(code)
    print(f"ok: {name} ({took:.0f}s)", flush=True)


def base_env() -> dict[str, str]:
    """The caller's environment without instance settings that would redirect the tests."""
    env = dict(os.environ)
    for key in ("DATABASE_URL", "REDIS_URL", "MUFAKAT_ENV", "MUFAKAT_DATA_DIR"):
        env.pop(key, None)
    env.setdefault("MUFAKAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
    return env


def ensure_debian_tools() -> None:
    """Debian chromium for the browser tests and GNU gettext for the catalogue checks: installed
    with apt when missing, so no test has to skip for want of them."""
    banner("Debian chromium (browser tests) and gettext (catalogue checks)")
    need = {
        "chromium": shutil.which("chromium") or shutil.which("chromium-browser"),
        "gettext": shutil.which("xgettext"),
    }
    for package, found in need.items():
        if found:
            print(f"{package}: {found}")
    missing = [package for package, found in need.items() if not found]
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        sys.exit(
            f"{' and '.join(missing)} missing and cannot be installed here (needs root and "
            f"apt-get): run `sudo apt-get install -y {' '.join(missing)}`, then retry"
        )
    apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", *missing],
    ):
        if subprocess.call(cmd, env=apt_env) != 0:
            sys.exit(f"`{' '.join(cmd)}` failed")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def postgres_url() -> str | None:
    """A reachable PostgreSQL URL for the second pytest run, starting a local cluster if needed."""
    url = os.environ.get("MUFAKAT_TEST_DATABASE_URL") or ""
    if not url and os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        url = os.environ["DATABASE_URL"]
    url = url or DEFAULT_PG_URL
    if port_open("127.0.0.1", 5432):
        return url
    versions = (
        sorted(p.name for p in Path("/etc/postgresql").glob("*"))
        if Path("/etc/postgresql").is_dir()
        else []
    )
    if versions and shutil.which("pg_ctlcluster"):
        banner(f"starting PostgreSQL {versions[-1]}")
        subprocess.call(
            ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"]
        )
        for _ in range(30):
            if port_open("127.0.0.1", 5432):
                return url
            time.sleep(1)
    return None


def ensure_llm_group() -> None:
    """The real local LLM server the core.ai tests call (not needed to run the platform)."""
    uv = os.environ.get("UV") or shutil.which("uv")
    cmd = [uv] if uv else [sys.executable, "-m", "uv"]
    run(
        "llm test server (uv sync --group llm)",
        [*cmd, "sync", "--frozen", "--inexact", "--group", "llm"],
    )


def main() -> None:
    pytest_args = sys.argv[1:]
    env = base_env()
    ensure_llm_group()
    ensure_debian_tools()
    run("ruff check", [PY, "-m", "ruff", "check", "."], env)
    run("ruff format --check", [PY, "-m", "ruff", "format", "--check", "."], env)
    run("mypy (strict)", [PY, "-m", "mypy"], env)
    with tempfile.TemporaryDirectory(prefix="mufakat-check-") as tmp:
        cli = [PY, "-m", "mufakat.cli", "manage"]
        run(
            "makemigrations --check",
            [*cli, "makemigrations", "--check", "--dry-run"],
            {**env, "MUFAKAT_DATA_DIR": tmp},
        )
        prod = {
            **env,
            "MUFAKAT_ENV": "production",
            "MUFAKAT_SECRET_KEY": secrets.token_urlsafe(64),
            "MUFAKAT_ALLOWED_HOSTS": "mufakat.example.org",
            "MUFAKAT_DATA_DIR": tmp,
            # As docs/deploy.md says: production hands mail to an SMTP relay, not to files.
            "MUFAKAT_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        }
        run(
            "check --deploy (production settings)",
            [*cli, "check", "--deploy", "--fail-level", "WARNING"],
            prod,
        )
    run("pytest on SQLite", [PY, "-m", "pytest", *pytest_args], env)
    url = postgres_url()
    if url is None:
        banner("pytest on PostgreSQL: SKIPPED, no server at 127.0.0.1:5432 and none installed")
    else:
        run(
            "pytest on PostgreSQL (includes two ASGI workers sharing sessions)",
            [PY, "-m", "pytest", *pytest_args],
            {**env, "DATABASE_URL": url},
        )
    banner("all checks passed")


if __name__ == "__main__":
    main()
