"""`mufakat backup` / `mufakat restore` round trips on the database of the test run (SQLite or
PostgreSQL), and the errors a person sees when the tools or the file are wrong."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from mufakat.core.models import Organisation, SharingGroup
from mufakat.core.ops.backup import BackupError, restore

pytestmark = pytest.mark.django_db(transaction=True)


def group(name: str) -> SharingGroup:
    return SharingGroup.objects.create(name=name, owner_org=Organisation.objects.get(code="VN"))


def test_backup_then_restore_brings_back_the_saved_state(
    shared_db_env: dict[str, str], cli: Any, tmp_path: Path
) -> None:
    group("Before the backup")
    target = tmp_path / "nightly.backup"
    made = cli("backup", str(target), env=shared_db_env)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "Backup written to" in made.stdout
    assert target.stat().st_size > 10_000
    magic = b"SQLite format 3" if connection.vendor == "sqlite" else b"PGDMP"
    assert target.read_bytes().startswith(magic)

    group("After the backup")
    connection.close()  # the restore replaces the tables under this process
    restored = cli("restore", "--yes", str(target), env=shared_db_env)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "Restored." in restored.stdout

    names = set(SharingGroup.objects.values_list("name", flat=True))
    assert "Before the backup" in names
    assert "After the backup" not in names
    assert Organisation.objects.filter(code="TL").exists()


def test_restore_refuses_a_file_that_is_not_a_backup(
    shared_db_env: dict[str, str], cli: Any, tmp_path: Path
) -> None:
    group("Kept")
    junk = tmp_path / "notes.txt"
    junk.write_text("minutes of the working group\n" * 20)
    r = cli("restore", "--yes", str(junk), env=shared_db_env)
    assert r.returncode == 2
    assert "is not a" in r.stdout
    assert "backup made by `mufakat backup`" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr
    missing = cli("restore", "--yes", str(tmp_path / "nope.backup"), env=shared_db_env)
    assert missing.returncode == 2
    assert "does not exist" in missing.stdout
    assert SharingGroup.objects.filter(name="Kept").exists()


def test_restore_asks_before_replacing(
    shared_db_env: dict[str, str], cli: Any, tmp_path: Path
) -> None:
    target = tmp_path / "x.backup"
    assert cli("backup", str(target), env=shared_db_env).returncode == 0
    r = cli("restore", str(target), env=shared_db_env)  # no --yes and no answer on stdin
    assert r.returncode == 1
    assert "Replace the current database" in r.stdout


def test_missing_postgresql_tools_give_a_clear_error(
    shared_db_env: dict[str, str], cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A PATH that holds only the interpreter: no pg_dump, no pg_restore.
    bare = tmp_path / "bin"
    bare.mkdir()
    env = {**shared_db_env, "PATH": str(bare)}
    r = cli("backup", str(tmp_path / "b.backup"), env=env)
    if connection.vendor == "postgresql":
        assert r.returncode == 2
        assert "pg_dump is not installed" in r.stdout
        assert not (tmp_path / "b.backup").exists()
    else:  # SQLite backups use the database's own online backup API, no outside tool
        assert r.returncode == 0, r.stdout + r.stderr
    monkeypatch.setenv("PATH", str(bare))
    from mufakat.core.ops.backup import _tool

    with pytest.raises(BackupError, match="pg_restore is not installed"):
        _tool("pg_restore")
    assert os.environ["PATH"] == str(bare)


def test_restore_checks_the_file_kind_in_process(tmp_path: Path) -> None:
    f = tmp_path / "empty.backup"
    f.write_bytes(b"")
    with pytest.raises(BackupError, match="is not a"):
        restore(f)
