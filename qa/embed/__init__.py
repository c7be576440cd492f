"""Embedding: text -> L2-normalised vectors (the reference model, its ONNX export, fast bulk runtimes).

Names load on first use (PEP 562): qa.embed.preload must be importable without numpy or the model code.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.embed.reference import (
        DEFAULT_MODEL_NAME,
        HASH_MODEL,
        HashEmbedder,
        SentenceTransformerEmbedder,
        load_embedder,
    )
    from qa.embed.texts import embedding_text
    from qa.records import Embedder, Progress

__all__ = [
    "DEFAULT_MODEL_NAME",
    "HASH_MODEL",
    "Embedder",
    "HashEmbedder",
    "Progress",
    "SentenceTransformerEmbedder",
    "embedding_text",
    "load_embedder",
]

_HOMES = {
    "DEFAULT_MODEL_NAME": "qa.embed.reference",
    "HASH_MODEL": "qa.embed.reference",
    "HashEmbedder": "qa.embed.reference",
    "SentenceTransformerEmbedder": "qa.embed.reference",
    "load_embedder": "qa.embed.reference",
    "embedding_text": "qa.embed.texts",
    "Embedder": "qa.records",
    "Progress": "qa.records",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'qa.embed' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
