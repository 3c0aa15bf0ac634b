"""Fixtures for operations tests: real `mufakat` processes against the test database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

CLI = [sys.executable, "-m", "mufakat.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def shared_database_url() -> str:
    """DATABASE_URL that points another process at the database this test session uses."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(s["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            pytest.fail("subprocess tests need a file-backed SQLite test database")
        return f"sqlite:///{Path(name).resolve()}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "MUFAKAT_ENV", "MUFAKAT_LOG_JSON"}
    }
    # Rich wraps messages at the terminal width; a wide one keeps them on one line for asserts.
    env.update(
        DJANGO_SETTINGS_MODULE="mufakat.settings", MUFAKAT_DATA_DIR=str(data_dir), COLUMNS="200"
    )
    env.update(extra)
    return env


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own console script
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def shared_db_env(transactional_db: Any, tmp_path: Path) -> dict[str, str]:
    """Environment for processes that share this test's (committed) database."""
    return clean_env(tmp_path, DATABASE_URL=shared_database_url())


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A fresh SQLite data folder with the demo loaded once by `mufakat demo --no-serve`."""
    env = clean_env(tmp_path_factory.mktemp("demo-data"))
    r = run_cli("demo", "--no-serve", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    return env


@pytest.fixture(name="cli")
def cli_fixture() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_cli


@pytest.fixture(name="wait_until")
def wait_until_fixture() -> Callable[[Callable[[], bool], float, str], None]:
    return wait_until


class Server:
    def __init__(self, proc: subprocess.Popen[str], url: str, log: Path) -> None:
        self.proc, self.url, self.log = proc, url, log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start `mufakat serve` processes; each is stopped (with its task worker) after the test."""
    started: list[Server] = []

    def start(env: dict[str, str], *, worker: bool = False) -> Server:
        port = free_port()
        log = tmp_path / f"serve-{port}.log"
        cmd = [*CLI, "serve", "--port", str(port), "--no-migrate"]
        cmd.append("--worker" if worker else "--no-worker")
        with log.open("w") as out:  # the child keeps its own copy of the descriptor
            proc = subprocess.Popen(  # noqa: S603 - our own console script
                cmd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,  # one process group: the server and its task worker
            )
        server = Server(proc, f"http://127.0.0.1:{port}", log)
        started.append(server)

        def up() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}:\n{server.output()}")
            try:
                with urllib.request.urlopen(server.url + "/healthz", timeout=2) as r:  # noqa: S310
                    return bool(r.status == 200)
            except OSError:  # not listening yet, or still starting up
                return False

        wait_until(up, 60, f"{cmd} to answer /healthz")
        return server

    yield start
    for s in started:
        if s.proc.poll() is None:
            os.killpg(s.proc.pid, signal.SIGTERM)
            try:
                s.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(s.proc.pid, signal.SIGKILL)
                s.proc.wait()
