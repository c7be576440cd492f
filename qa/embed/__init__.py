"""Embedding: text -> L2-normalised vectors (the reference model, its ONNX export, fast bulk runtimes)."""

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
