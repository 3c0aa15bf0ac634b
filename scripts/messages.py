"""Extract and compile translation catalogues, one per module plus the platform's own.

`uv run scripts/messages.py [--compile-only]`

The platform catalogue (`src/mufakat/locale/`) holds the strings of core, the templates and the
shell; each module keeps its own (`src/mufakat/<module>/locale/`), so modules built in parallel
never edit the same `.po` file. Django looks in LOCALE_PATHS first, then in each app's `locale/`.
Needs GNU gettext (`apt-get install gettext`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "mufakat"
LANGS = ["id", "ms", "th", "vi"]


def module_dirs() -> list[Path]:
    """Platform modules that keep their own catalogue (a `locale/` folder beside `apps.py`)."""
    return sorted(p.parent for p in SRC.glob("*/locale") if (p.parent / "apps.py").exists())


def manage(*args: str, cwd: Path) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mufakat.settings"}
    cmd = [sys.executable, "-m", "mufakat.cli", "manage", *args]
    if subprocess.call(cmd, cwd=cwd, env=env) != 0:
        sys.exit(f"failed: {' '.join(args)} in {cwd}")


def main() -> None:
    compile_only = "--compile-only" in sys.argv
    modules = module_dirs()
    langs = [a for lang in LANGS for a in ("-l", lang)]
    if not compile_only:
        # The platform catalogue: everything under src/mufakat except the modules' own folders.
        ignore = [a for m in modules for a in ("-i", f"{m.name}/*")]
        manage("makemessages", *langs, "--no-location", "-i", "static/*", *ignore, cwd=SRC)
        for m in modules:
            manage("makemessages", *langs, "--no-location", "-i", "static/*", cwd=m)
    for where in (SRC, *modules):
        manage("compilemessages", cwd=where)


if __name__ == "__main__":
    main()
