"""Embedding: text -> L2-normalised vectors (the reference model, its ONNX export, fast bulk runtimes)."""

from qa.embed.protocol import Embedder, Progress, embedding_text
from qa.embed.reference import (
    DEFAULT_MODEL_NAME,
    HASH_MODEL,
    HashEmbedder,
    SentenceTransformerEmbedder,
    load_embedder,
)

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
