"""Torch-free query encoder: the sentence-transformers model exported once to ONNX, run by onnxruntime.

sentence-transformers stays the reference and builds the index. Whenever it has been loaded anyway (a
build), the model is exported to ONNX into the user cache, keyed by a SHA-256 of its weights and
tokenizer; later one-shot questions then encode with onnxruntime + tokenizers + numpy (mean pooling, L2
norm, truncation at the model's max_seq_length), without importing torch. The vectors match the
reference at cosine >= 0.999999 (tests/embed/test_onnx_embed.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.embed import preload
from qa.embed.onnx_export import EXPORT_VERSION, cache_root, export, export_dir
from qa.embed.pooling import load_tokenizer, model_inputs, sentence_vectors, tokenize
from qa.embed.reference import BATCH_SIZE, SentenceTransformerEmbedder
from qa.embed.texts import REFERENCE_BACKEND
from qa.records import Embedder, Progress

# the export lives in qa.embed.onnx_export; imported from here too
__all__ = ["EXPORT_VERSION", "OnnxEmbedder", "cache_root", "export", "export_dir", "query_embedder"]


class OnnxEmbedder:
    """The same vectors as SentenceTransformerEmbedder for the same model, from its ONNX export."""

    # a query encoder: handed to a build anyway, it is recorded as the reference model, as it always was
    backend = REFERENCE_BACKEND

    def __init__(self, onnx_file: Path, model_path: Path, name: str, dim: int) -> None:
        import onnxruntime

        self.name = name
        self._dim = dim
        self._session = preload.take(onnx_file) or onnxruntime.InferenceSession(
            str(onnx_file), preload.session_options(), providers=["CPUExecutionProvider"]
        )
        self._tokenizer = load_tokenizer(model_path)
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        for begin in range(0, len(texts), BATCH_SIZE):
            batch = texts[begin : begin + BATCH_SIZE]
            with self._lock:
                encodings = tokenize(self._tokenizer, batch)
            arrays = model_inputs(encodings, max(len(e.ids) for e in encodings))
            hidden = self._session.run(None, arrays)[0]
            out[begin : begin + len(batch)] = sentence_vectors(hidden, arrays["attention_mask"])
            if progress:
                progress(begin + len(batch), len(texts))
        return out


def query_embedder(embedder: Embedder) -> Embedder:
    """The embedder to encode questions with: the ONNX export when it exists and onnxruntime is installed."""
    if not isinstance(embedder, SentenceTransformerEmbedder) or os.environ.get("QA_BACKEND") == "torch":
        return embedder
    try:
        folder = export_dir(embedder.path)
        if folder is None or not (folder / "model.onnx").is_file():
            return embedder
        return OnnxEmbedder(folder / "model.onnx", embedder.path, embedder.name, embedder.dim)
    except Exception:  # noqa: BLE001 - no onnxruntime, a damaged export: the reference path answers
        return embedder
