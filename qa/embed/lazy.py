"""The bulk encoder a build embeds with, created on first use (an update with nothing new to embed never loads a
model); also what each Ray actor embeds with (qa/embed/runtimes/ray_embedder.py)."""

from __future__ import annotations

import numpy as np

from qa.embed.texts import POOLED, REFERENCE_BACKEND, sentence_method
from qa.errors import BackendError
from qa.records import Embedder, Reporter


class LazyEncoder:
    """The bulk encoder, created on first use: an update with nothing new to embed never loads a model."""

    def __init__(self, embedder: Embedder, backend: str, reporter: Reporter | None = None) -> None:
        self._embedder = embedder
        self._backend = backend
        self._reporter = reporter
        self._bulk: Embedder | None = None
        self.name: str | None = None  # the backend that embedded, once one has

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._encoder().embed(texts)

    def prepare(self) -> None:
        """Create the encoder now (converting and measuring the model the first time on this CPU)."""
        self._encoder()

    def close(self) -> None:
        """Nothing to stop: the encoder lives in this process."""

    def _encoder(self) -> Embedder:
        if self._bulk is None:
            from qa.embed.bulk import bulk_embedder, needs_preparation  # a runtime is imported only when a build embeds

            if self._reporter is not None and needs_preparation(self._embedder, self._backend):
                self._reporter.info("Preparing the model for this CPU (once; up to a minute) ...")
            self._bulk = bulk_embedder(self._embedder, self._backend)
            # an embedder a caller wrote may predate `backend`: it encodes by itself, like the reference
            self.name = getattr(self._bulk, "backend", REFERENCE_BACKEND)
        return self._bulk

    def embed_with_spans(
        self, texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each text's vector and a vector per span of it: pooled from the text's own forward pass (late
        chunking) by an encoder that can, else each span encoded on its own (`sentence_vectors` says which)."""
        pooling = getattr(self._encoder(), "embed_with_spans", None)
        if sentence_method(self._embedder) == POOLED:
            if pooling is None:
                raise BackendError(f"the {self.name} encoder cannot pool sentence vectors from its passages")
            vectors, pooled = pooling(texts, spans)
            return vectors, pooled
        pieces = [text[start:end] for text, text_spans in zip(texts, spans, strict=True) for start, end in text_spans]
        vectors = self.embed(texts + pieces)
        bounds = np.cumsum([len(texts), *(len(text_spans) for text_spans in spans)])
        return vectors[: len(texts)], [vectors[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
