"""Undersea-specific geography: the TeleGeography country names of cable landings as ISO codes.
Everything generic (coordinates, distances, parsing, sea lanes) is in `mufakat.core.geo`."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"


@cache
def country_codes() -> dict[str, str]:
    """TeleGeography country name → ISO 3166 alpha-2 (built from Natural Earth plus exceptions)."""
    return json.loads((DATA_DIR / "country-codes.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def iso2(country: str) -> str:
    return country_codes().get(country.strip(), "")
