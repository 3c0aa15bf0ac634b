"""The MUFAKAT_LLM_* settings: parsed and validated with a message naming the key."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from mufakat import config


def test_llm_settings_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUFAKAT_LLM_BASE_URL", "http://127.0.0.1:8080/v1/")
    monkeypatch.setenv("MUFAKAT_LLM_MODEL", " smollm2 ")
    monkeypatch.setenv("MUFAKAT_LLM_API_KEY", "k")
    monkeypatch.setenv("MUFAKAT_LLM_TIMEOUT_SECONDS", "2.5")
    c = config.load()
    assert (c.llm_base_url, c.llm_model, c.llm_api_key, c.llm_timeout_seconds) == (
        "http://127.0.0.1:8080/v1",
        "smollm2",
        "k",
        2.5,
    )


def test_no_llm_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MUFAKAT_LLM_BASE_URL", "MUFAKAT_LLM_MODEL", "MUFAKAT_LLM_TIMEOUT_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    c = config.load()
    assert (c.llm_base_url, c.llm_timeout_seconds) == ("", 60.0)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MUFAKAT_LLM_BASE_URL", "127.0.0.1:8080"),
        ("MUFAKAT_LLM_BASE_URL", "file:///etc/passwd"),
        ("MUFAKAT_LLM_TIMEOUT_SECONDS", "0"),
        ("MUFAKAT_LLM_TIMEOUT_SECONDS", "soon"),
        ("MUFAKAT_LLM_TIMEOUT_SECONDS", "nan"),
    ],
)
def test_bad_values_name_the_key(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        config.load()


def test_public_api_resolves_lazily() -> None:
    from mufakat.core import ai

    assert sorted(ai.__all__) == sorted(ai._PUBLIC)
    for name in ai.__all__:
        assert getattr(ai, name) is not None
    with pytest.raises(AttributeError):
        ai.not_a_name  # noqa: B018
