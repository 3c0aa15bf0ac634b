"""Serve front-end libraries straight from their PyPI packages (pinned in pyproject.toml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage


def vendor_roots() -> dict[str, Path]:
    import js_lib_htmx  # type: ignore[import-untyped]
    from xstatic.pkg import leaflet, leaflet_markercluster

    return {
        "vendor/leaflet": Path(leaflet.BASE_DIR),
        "vendor/leaflet-markercluster": Path(leaflet_markercluster.BASE_DIR),
        "vendor/htmx": Path(js_lib_htmx.__file__).parent / "static" / "htmx",
    }


class VendorFinder(BaseFinder):
    """Maps vendor/<lib>/<file> to the installed package's files."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.storages = {
            prefix: FileSystemStorage(location=str(root)) for prefix, root in vendor_roots().items()
        }
        for prefix, storage in self.storages.items():
            storage.prefix = prefix  # type: ignore[attr-defined]

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> Any:
        matches: list[str] = []
        for prefix, storage in self.storages.items():
            if path.startswith(prefix + "/"):
                rel = path[len(prefix) + 1 :]
                if storage.exists(rel):
                    full = storage.path(rel)
                    if not find_all:
                        return full
                    matches.append(full)
        return matches

    def list(self, ignore_patterns: Any) -> Any:
        from django.contrib.staticfiles.utils import get_files

        for storage in self.storages.values():
            for path in get_files(storage, ignore_patterns):
                yield path, storage
