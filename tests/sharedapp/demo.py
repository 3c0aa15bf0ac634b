from __future__ import annotations

from typing import Any

from tests.sharedapp.models import Term


def load_demo(console: Any) -> None:
    """Idempotent, like every module's demo loader."""
    Term.objects.get_or_create(name="mufakat")
