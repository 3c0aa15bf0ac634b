"""Backups: SQLite's online backup API, or pg_dump/pg_restore on PostgreSQL."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.db import connection

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why."""


def _pg_env() -> dict[str, str]:
    s = connection.settings_dict
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    return env


def _pg_args() -> list[str]:
    s = connection.settings_dict
    args = []
    if s.get("HOST"):
        args += ["-h", str(s["HOST"])]
    if s.get("PORT"):
        args += ["-p", str(s["PORT"])]
    if s.get("USER"):
        args += ["-U", str(s["USER"])]
    return args


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed; install the PostgreSQL client tools")
    return path


def backup(target: Path, progress: Any = None) -> int:
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        src = connection.connection
        tmp = target.with_suffix(target.suffix + ".part")
        dst = sqlite3.connect(tmp)
        try:
            with dst:
                src.backup(dst, pages=256)
        finally:
            dst.close()
        tmp.replace(target)
    elif connection.vendor == "postgresql":
        cmd = [
            _tool("pg_dump"),
            "-Fc",
            "--no-owner",
            "-f",
            str(target),
            *_pg_args(),
            str(connection.settings_dict["NAME"]),
        ]
        result = subprocess.run(cmd, env=_pg_env(), capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    else:
        raise BackupError(f"backups are not supported for {connection.vendor}")
    return target.stat().st_size


def restore(source: Path, progress: Any = None) -> None:
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    head = source.read_bytes()[:16]
    if connection.vendor == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            raise BackupError(f"{source} is not a SQLite backup made by `mufakat backup`")
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            if src.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{source} failed SQLite's integrity check")
            connection.ensure_connection()
            src.backup(connection.connection, pages=256)
        finally:
            src.close()
    elif connection.vendor == "postgresql":
        if not head.startswith(PGDUMP_MAGIC):
            raise BackupError(
                f"{source} is not a pg_dump custom-format backup made by `mufakat backup`"
            )
        connection.close()
        cmd = [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "-d",
            str(connection.settings_dict["NAME"]),
            *_pg_args(),
            str(source),
        ]
        result = subprocess.run(cmd, env=_pg_env(), capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
    else:
        raise BackupError(f"restore is not supported for {connection.vendor}")
