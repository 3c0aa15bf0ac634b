"""Accountable AI: the runtime every module calls (docs/ai.md).

    from mufakat.core import ai

    if ai.available():
        try:
            result = ai.generate_structured(
                Inject, "Write the next inject.", untrusted={"answer": text},
                template_version="ttx.inject/1", requested_by=user,
            )
        except ai.AIError:
            ...  # fall back to the procedural path
        else:
            inject = services.create_inject(user, result.value)   # ai_generated=True
            ai.attach(inject, result, requested_by=user)

The names below load on first use: `core.models` imports `core.ai.models` while Django is still
registering models, so this package must not import the client (or numpy) at import time.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mufakat.core.ai.client import (
        AIError,
        AIInvalidOutput,
        AIUnavailable,
        Result,
        SchemaMode,
        ServerInfo,
        astream_text,
        available,
        generate_structured,
        server_info,
        stream_text,
    )
    from mufakat.core.ai.embeddings import embed
    from mufakat.core.ai.prompts import Message, fence
    from mufakat.core.ai.provenance import attach, pending

_PUBLIC = {
    "AIError": "client",
    "AIInvalidOutput": "client",
    "AIUnavailable": "client",
    "Result": "client",
    "SchemaMode": "client",
    "ServerInfo": "client",
    "astream_text": "client",
    "available": "client",
    "generate_structured": "client",
    "server_info": "client",
    "stream_text": "client",
    "embed": "embeddings",
    "Message": "prompts",
    "fence": "prompts",
    "attach": "provenance",
    "pending": "provenance",
}

__all__ = [
    "AIError",
    "AIInvalidOutput",
    "AIUnavailable",
    "Message",
    "Result",
    "SchemaMode",
    "ServerInfo",
    "astream_text",
    "attach",
    "available",
    "embed",
    "fence",
    "generate_structured",
    "pending",
    "server_info",
    "stream_text",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
