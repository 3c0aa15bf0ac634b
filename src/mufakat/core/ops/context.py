"""Per-request (or per-job) context in contextvars: who acts, under which request id."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ActionContext:
    user: Any = None
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    ip: str | None = None


_current: ContextVar[ActionContext | None] = ContextVar("mufakat_action_context", default=None)


def current() -> ActionContext | None:
    return _current.get()


def current_request_id() -> str:
    ctx = _current.get()
    return ctx.request_id if ctx else ""


@contextmanager
def acting(
    user: Any = None, request_id: str | None = None, ip: str | None = None
) -> Iterator[ActionContext]:
    """Run a block as `user`; background jobs and CLI commands use this so they are audited alike."""
    ctx = ActionContext(user=user, request_id=request_id or str(uuid.uuid4()), ip=ip)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
