"""One client for any OpenAI-compatible chat-completions server (llama.cpp, vLLM, Ollama, …).

Structured output: the pydantic schema is sent as `response_format`, the answer is always
validated locally, and a bounded number of retries feed the validation error back. Servers differ
in which `response_format` they accept (docs/ai.md), so the client negotiates once per server and
runs the control test that tells whether the server really enforces the schema.

Every call, successful or not, writes an `AIProvenance` row (core.ai.provenance).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import AsyncIterator, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx
import pydantic
from asgiref.sync import sync_to_async
from django.conf import settings

from mufakat.core.ai import provenance
from mufakat.core.ai.prompts import Message, build_messages, digest
from mufakat.core.models import AIProvenance

# Status codes with which servers refuse a response_format they do not know (400 or 422; see
# _complete for llama-cpp-python's 500).
_FORMAT_REFUSED = frozenset({400, 422})
_THINK = re.compile(r"<think>.*?</think>", re.S)
_FENCED = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)


class SchemaMode(StrEnum):
    """How the schema reaches the server."""

    JSON_SCHEMA = "json_schema"  # OpenAI nested form: vLLM, Ollama, llama-server, OpenAI
    JSON_OBJECT = "json_object"  # {"type": "json_object", "schema": …}: llama-cpp-python
    PROMPT = "prompt"  # only in the system prompt: servers that refuse both


_MODES = (SchemaMode.JSON_SCHEMA, SchemaMode.JSON_OBJECT, SchemaMode.PROMPT)


class AIError(Exception):
    """Base of the errors callers catch to fall back to their non-AI path."""

    def __init__(self, message: str, record: AIProvenance | None = None) -> None:
        super().__init__(message)
        self.provenance = record


class AIUnavailable(AIError):  # noqa: N818 (the public names read as outcomes)
    """No server configured, or it could not be reached, timed out or broke the protocol."""


class AIInvalidOutput(AIError):  # noqa: N818
    """The server answered, but no answer validated against the schema within the attempts."""


@dataclass(frozen=True)
class ServerInfo:
    """What the control test found out about a server (cached per base URL and model)."""

    mode: SchemaMode
    enforced: bool


@dataclass(frozen=True)
class Result[T: pydantic.BaseModel]:
    """A validated structured output and the provenance row already written for it."""

    value: T
    provenance: AIProvenance
    attempts: int
    schema_mode: SchemaMode
    schema_enforced: bool


@dataclass(frozen=True)
class LLMSettings:
    base_url: str
    model: str = ""
    api_key: str = field(default="", repr=False)
    timeout: float = 60.0

    @classmethod
    def from_django(cls) -> LLMSettings:
        return cls(
            base_url=str(getattr(settings, "MUFAKAT_LLM_BASE_URL", "") or "").rstrip("/"),
            model=str(getattr(settings, "MUFAKAT_LLM_MODEL", "") or ""),
            api_key=str(getattr(settings, "MUFAKAT_LLM_API_KEY", "") or ""),
            timeout=float(getattr(settings, "MUFAKAT_LLM_TIMEOUT_SECONDS", 60) or 60),
        )

    @property
    def generator(self) -> str:
        return f"llm:{self.model or 'default'}"


def available() -> bool:
    """Whether an LLM server is configured; without one every AI call raises AIUnavailable."""
    return bool(LLMSettings.from_django().base_url)


def _settings() -> LLMSettings:
    conf = LLMSettings.from_django()
    if not conf.base_url:
        raise AIUnavailable("No LLM server is configured (MUFAKAT_LLM_BASE_URL is empty).")
    return conf


_servers: dict[tuple[str, str], ServerInfo] = {}
_servers_lock = threading.Lock()


def forget_servers() -> None:
    """Drop what the control test learnt (after the server behind a URL changed)."""
    with _servers_lock:
        _servers.clear()


class _RefusedError(Exception):
    """The server refused the request body (4xx); used to step down the schema modes."""


def _response_format(mode: SchemaMode, name: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    if mode is SchemaMode.JSON_SCHEMA:
        return {
            "type": "json_schema",
            "json_schema": {"name": name[:64], "schema": schema, "strict": True},
        }
    if mode is SchemaMode.JSON_OBJECT:
        return {"type": "json_object", "schema": schema}
    return None


def _body(
    conf: LLMSettings,
    messages: Sequence[Message],
    *,
    response_format: dict[str, Any] | None,
    temperature: float,
    max_tokens: int,
    seed: int | None,
    stream: bool = False,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messages": list(messages),
        "temperature": temperature,
        "max_tokens": max_tokens,
        "stream": stream,
    }
    if conf.model:
        body["model"] = conf.model
    if seed is not None:
        body["seed"] = seed
    if response_format is not None:
        body["response_format"] = response_format
    return body


def _http(conf: LLMSettings) -> httpx.Client:
    headers = {"Authorization": f"Bearer {conf.api_key}"} if conf.api_key else {}
    # trust_env=False: proxies from the environment must not reroute calls to the model.
    return httpx.Client(
        base_url=conf.base_url, headers=headers, timeout=conf.timeout, trust_env=False
    )


def _ahttp(conf: LLMSettings) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {conf.api_key}"} if conf.api_key else {}
    return httpx.AsyncClient(
        base_url=conf.base_url, headers=headers, timeout=conf.timeout, trust_env=False
    )


def _describe(exc: httpx.HTTPError, conf: LLMSettings) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"The LLM server did not answer within {conf.timeout:g} s."
    return f"The LLM server could not be reached ({type(exc).__name__})."


def _complete(client: httpx.Client, conf: LLMSettings, body: dict[str, Any]) -> str:
    """One chat completion; the assistant's text. _RefusedError on 400/422, AIUnavailable otherwise."""
    try:
        resp = client.post("/chat/completions", json=body)
    except httpx.HTTPError as exc:
        raise AIUnavailable(_describe(exc, conf)) from exc
    if resp.status_code in _FORMAT_REFUSED or (
        # llama-cpp-python under current FastAPI reports its request validation as HTTP 500.
        resp.status_code == 500 and "response_format" in resp.text
    ):
        raise _RefusedError(resp.text[:300])
    if resp.status_code != 200:
        raise AIUnavailable(f"The LLM server answered HTTP {resp.status_code}.")
    try:
        content = resp.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise AIUnavailable("The LLM server's answer is not an OpenAI chat completion.") from None
    if not isinstance(content, str):
        raise AIUnavailable("The LLM server's answer has no text content.")
    return content


def _clean(text: str) -> str:
    """Strip what models put around JSON: reasoning blocks and Markdown code fences."""
    text = _THINK.sub("", text).strip()
    m = _FENCED.match(text)
    return m.group(1) if m else text


# The control test (shared/notes/ttx.md §6): a value no model writes by chance, asked for with a
# prompt that would otherwise produce prose. Enforcing servers must answer with it; servers that
# ignore the schema answer the same prose with and without it.
_PROBE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"probe": {"type": "string", "enum": ["mufakat-probe-ok"]}},
    "required": ["probe"],
    "additionalProperties": False,
}
_PROBE_PROMPT: list[Message] = [
    {"role": "user", "content": "Write one short sentence about the sea."}
]


def _probe(client: httpx.Client, conf: LLMSettings) -> ServerInfo:
    def ask(fmt: dict[str, Any] | None) -> str:
        return _complete(
            client,
            conf,
            _body(conf, _PROBE_PROMPT, response_format=fmt, temperature=0, max_tokens=24, seed=0),
        )

    plain = ask(None)
    for mode in (SchemaMode.JSON_SCHEMA, SchemaMode.JSON_OBJECT):
        try:
            constrained = ask(_response_format(mode, "probe", _PROBE_SCHEMA))
        except _RefusedError:
            continue
        try:
            ok = json.loads(_clean(constrained)) == {"probe": "mufakat-probe-ok"}
        except ValueError:
            ok = False
        return ServerInfo(mode=mode, enforced=ok and digest(constrained) != digest(plain))
    return ServerInfo(mode=SchemaMode.PROMPT, enforced=False)


def server_info(client: httpx.Client | None = None) -> ServerInfo:
    """The schema mode and enforcement of the configured server, probing it on first use."""
    conf = _settings()
    key = (conf.base_url, conf.model)
    with _servers_lock:
        known = _servers.get(key)
    if known is not None:
        return known
    try:
        if client is not None:
            info = _probe(client, conf)
        else:
            with _http(conf) as c:
                info = _probe(c, conf)
    except _RefusedError as exc:
        raise AIUnavailable(f"The LLM server refused a plain request: {exc}") from None
    with _servers_lock:
        _servers[key] = info
    return info


def _errors(exc: pydantic.ValidationError) -> str:
    parts = []
    for e in exc.errors(include_url=False, include_input=False)[:8]:
        where = ".".join(str(p) for p in e["loc"]) or "(root)"
        parts.append(f"{where}: {e['msg']}")
    return "; ".join(parts)


def generate_structured[T: pydantic.BaseModel](
    schema: type[T],
    prompt: str | Sequence[Message],
    *,
    template_version: str,
    untrusted: Mapping[str, str] | None = None,
    inputs: Mapping[str, Any] | None = None,
    requested_by: Any = None,
    generator: str = "",
    max_attempts: int = 3,
    temperature: float = 0.0,
    max_tokens: int = 512,
    seed: int | None = 0,
) -> Result[T]:
    """Ask the configured model for an instance of `schema`; validated, with provenance.

    `prompt` is the caller's instruction (trusted: written by the module). Text from documents or
    people goes in `untrusted` (name -> text) and is fenced as data. `inputs` are JSON-able facts
    kept in provenance (ids of sources, parameters). Raises AIUnavailable or AIInvalidOutput,
    both AIError, after writing the provenance row of the failed call.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    untrusted = dict(untrusted or {})
    json_schema = schema.model_json_schema()
    messages = build_messages(prompt, untrusted=untrusted, schema=json_schema)
    call = provenance.Call(
        generator=generator or LLMSettings.from_django().generator,
        model_name=LLMSettings.from_django().model,
        template_version=template_version,
        inputs=provenance.inputs_record(inputs, untrusted),
        requested_by=requested_by,
        prompt_hash=digest({"messages": messages, "schema": json_schema}),
        schema_name=schema.__name__,
    )
    started = time.monotonic()
    attempts = 0
    mode = SchemaMode.PROMPT
    enforced = False
    try:
        conf = _settings()
        with _http(conf) as client:
            info = server_info(client)
            mode, enforced = info.mode, info.enforced
            fmt = _response_format(mode, schema.__name__, json_schema)
            convo = list(messages)
            last_error = ""
            while attempts < max_attempts:
                attempts += 1
                body = _body(
                    conf,
                    convo,
                    response_format=fmt,
                    temperature=temperature,
                    max_tokens=max_tokens,
                    seed=seed,
                )
                try:
                    text = _complete(client, conf, body)
                except _RefusedError as exc:
                    # Some schemas are beyond a server's grammar compiler: step down a mode for
                    # this call (validation below still holds the contract).
                    if mode is SchemaMode.PROMPT:
                        raise AIUnavailable(f"The LLM server refused the request: {exc}") from None
                    mode = _MODES[_MODES.index(mode) + 1]
                    enforced = False
                    fmt = _response_format(mode, schema.__name__, json_schema)
                    attempts -= 1
                    continue
                try:
                    value = schema.model_validate_json(_clean(text))
                except pydantic.ValidationError as exc:
                    last_error = _errors(exc)
                    convo += [
                        {"role": "assistant", "content": text},
                        {
                            "role": "user",
                            "content": "That reply does not validate against the schema ("
                            + last_error
                            + "). Reply again with only the corrected JSON object.",
                        },
                    ]
                    continue
                record = call.save(
                    outcome=AIProvenance.Outcome.OK,
                    output_hash=digest(value.model_dump(mode="json")),
                    schema_mode=mode,
                    schema_enforced=enforced,
                    attempts=attempts,
                    latency=time.monotonic() - started,
                )
                return Result(
                    value=value,
                    provenance=record,
                    attempts=attempts,
                    schema_mode=mode,
                    schema_enforced=enforced,
                )
            raise AIInvalidOutput(
                f"No valid {schema.__name__} after {attempts} attempt(s): {last_error}"
            )
    except AIError as exc:
        exc.provenance = call.save(
            outcome=(
                AIProvenance.Outcome.INVALID
                if isinstance(exc, AIInvalidOutput)
                else AIProvenance.Outcome.UNAVAILABLE
            ),
            schema_mode=mode,
            schema_enforced=enforced,
            attempts=attempts,
            latency=time.monotonic() - started,
            error=str(exc),
        )
        raise


def _stream_call(
    prompt: str | Sequence[Message],
    *,
    untrusted: Mapping[str, str] | None,
    inputs: Mapping[str, Any] | None,
    requested_by: Any,
    template_version: str,
    generator: str,
) -> tuple[list[Message], provenance.Call]:
    untrusted = dict(untrusted or {})
    messages = build_messages(prompt, untrusted=untrusted)
    conf = LLMSettings.from_django()
    call = provenance.Call(
        generator=generator or conf.generator,
        model_name=conf.model,
        template_version=template_version,
        inputs=provenance.inputs_record(inputs, untrusted),
        requested_by=requested_by,
        prompt_hash=digest({"messages": messages}),
    )
    return messages, call


def _delta(line: str) -> str | None:
    """Text of one server-sent event line; None at the end marker."""
    if not line.startswith("data:"):
        return ""
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    try:
        choice = json.loads(data)["choices"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        raise AIUnavailable("The LLM server streamed something that is not a chat chunk.") from None
    text = (choice.get("delta") or {}).get("content") or ""
    return text if isinstance(text, str) else ""


def stream_text(
    prompt: str | Sequence[Message],
    *,
    template_version: str,
    untrusted: Mapping[str, str] | None = None,
    inputs: Mapping[str, Any] | None = None,
    requested_by: Any = None,
    generator: str = "",
    temperature: float = 0.2,
    max_tokens: int = 512,
    seed: int | None = None,
) -> Generator[str]:
    """Free text as it is generated (chat UIs). Provenance is written when the stream ends,
    also when the consumer stops early or the server fails (then AIUnavailable is raised)."""
    messages, call = _stream_call(
        prompt,
        untrusted=untrusted,
        inputs=inputs,
        requested_by=requested_by,
        template_version=template_version,
        generator=generator,
    )
    started = time.monotonic()
    parts: list[str] = []
    error = ""
    try:
        conf = _settings()
        body = _body(
            conf,
            messages,
            response_format=None,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=seed,
            stream=True,
        )
        with _http(conf) as client:
            try:
                with client.stream("POST", "/chat/completions", json=body) as resp:
                    if resp.status_code != 200:
                        raise AIUnavailable(f"The LLM server answered HTTP {resp.status_code}.")
                    for line in resp.iter_lines():
                        text = _delta(line)
                        if text is None:
                            break
                        if text:
                            parts.append(text)
                            yield text
            except httpx.HTTPError as exc:
                raise AIUnavailable(_describe(exc, conf)) from exc
    except AIError as exc:
        error = str(exc)
        raise
    finally:
        call.save(
            outcome=AIProvenance.Outcome.UNAVAILABLE if error else AIProvenance.Outcome.OK,
            output_hash=digest("".join(parts)),
            latency=time.monotonic() - started,
            error=error,
        )


async def astream_text(
    prompt: str | Sequence[Message],
    *,
    template_version: str,
    untrusted: Mapping[str, str] | None = None,
    inputs: Mapping[str, Any] | None = None,
    requested_by: Any = None,
    generator: str = "",
    temperature: float = 0.2,
    max_tokens: int = 512,
    seed: int | None = None,
) -> AsyncIterator[str]:
    """stream_text for async views (StreamingHttpResponse over SSE under ASGI)."""
    messages, call = _stream_call(
        prompt,
        untrusted=untrusted,
        inputs=inputs,
        requested_by=requested_by,
        template_version=template_version,
        generator=generator,
    )
    started = time.monotonic()
    parts: list[str] = []
    error = ""
    try:
        conf = _settings()
        body = _body(
            conf,
            messages,
            response_format=None,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=seed,
            stream=True,
        )
        async with _ahttp(conf) as client:
            try:
                async with client.stream("POST", "/chat/completions", json=body) as resp:
                    if resp.status_code != 200:
                        raise AIUnavailable(f"The LLM server answered HTTP {resp.status_code}.")
                    async for line in resp.aiter_lines():
                        text = _delta(line)
                        if text is None:
                            break
                        if text:
                            parts.append(text)
                            yield text
            except httpx.HTTPError as exc:
                raise AIUnavailable(_describe(exc, conf)) from exc
    except AIError as exc:
        error = str(exc)
        raise
    finally:
        await sync_to_async(call.save)(
            outcome=AIProvenance.Outcome.UNAVAILABLE if error else AIProvenance.Outcome.OK,
            output_hash=digest("".join(parts)),
            latency=time.monotonic() - started,
            error=error,
        )
