"""The project's promises on paper: the README's two commands, CI calling the test one, and every
setting documented for operators."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from mufakat import config
from mufakat.core import registry

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_MODULES = {
    m.rsplit(".", 1)[-1] for m in settings.MUFAKAT_MODULES if m.startswith("mufakat.")
}


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```[a-z]*\n(.*?)```", text, re.DOTALL)
    assert first_block is not None, "README.md has no code block"
    # Nothing but the title may stand before the two commands.
    before = text[: first_block.start()].strip().splitlines()
    assert before == ["# Mufakat"]
    return [
        line
        for line in first_block.group(1).splitlines()
        if line.strip() and not line.startswith("#")
    ]


def test_readme_starts_with_the_demo_and_test_commands() -> None:
    demo, tests = readme_commands()
    for cmd in (demo, tests):
        # A fresh machine has Python and pip, nothing else: both commands bootstrap uv first.
        assert cmd.startswith("python3 -m pip install uv==")
    assert demo.endswith("uv run mufakat demo")
    assert tests.endswith("uv run --frozen scripts/test.py")
    assert (ROOT / "scripts" / "test.py").is_file()


def test_ci_runs_the_readme_test_command() -> None:
    ci = ROOT / ".ci" / "run"
    assert ci.stat().st_mode & 0o111, ".ci/run must be executable"
    text = ci.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    _demo, tests = readme_commands()
    assert tests in [line.strip() for line in text.splitlines()]


def test_every_setting_is_documented_for_operators() -> None:
    deploy = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \| ([^|]*) \|", deploy, re.M)}
    # Core's settings and those the platform's own modules declare (the test module's are not
    # for operators).
    declared = [
        *config.SETTINGS,
        *(s for label, s in registry.all_settings() if label in PLATFORM_MODULES),
    ]
    names = [s.name for s in declared]
    assert sorted(rows) == sorted(names), "docs/deploy.md table must list exactly these settings"
    for s in declared:
        if s.default:
            assert s.default in rows[s.name], f"{s.name}: documented default differs"


def test_every_module_hook_has_a_section_in_the_authors_guide() -> None:
    guide = (ROOT / "docs" / "modules.md").read_text(encoding="utf-8")
    sections = re.findall(r"^### `(\w+)`$", guide, re.M)
    hooks = registry.field_names()
    missing = [h for h in hooks if h not in sections]
    assert missing == [], f"docs/modules.md has no section for: {missing}"
    stale = [s for s in sections if s not in hooks]
    assert stale == [], f"docs/modules.md documents hooks that do not exist: {stale}"
    assert sections == hooks, "sections follow the order of ModuleSpec's fields"
