from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mufakat.core.ai.client import forget_servers
from mufakat.core.ai.tests.servers import LlamaServer, smollm2_gguf


@pytest.fixture(scope="session")
def llama() -> Iterator[LlamaServer]:
    """The real local model server, started once for the whole test session."""
    server = LlamaServer(smollm2_gguf())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _no_llm_by_default(settings: Any) -> Iterator[None]:
    # Tests opt into a server with use_server(); what a probe learnt never leaks between tests.
    settings.MUFAKAT_LLM_BASE_URL = ""
    settings.MUFAKAT_LLM_MODEL = ""
    settings.MUFAKAT_LLM_TIMEOUT_SECONDS = 60
    forget_servers()
    yield
    forget_servers()
