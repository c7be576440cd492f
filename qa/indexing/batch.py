"""One embed batch of a build: documents read and chunked, embedded together, committed one by one."""

from __future__ import annotations

from dataclasses import dataclass, field

import faiss
import numpy as np

import qa.storage.vectors as ann
from qa.chunk import sentence_spans_of
from qa.embed.texts import REFERENCE_BACKEND
from qa.indexing.documents import document_meta
from qa.records import Document, Embedder, Passage, StoredPassage
from qa.storage.database import PassageDatabase


class LazyEncoder:
    """The bulk encoder, created on first use: an update with nothing new to embed never loads a model."""

    def __init__(self, embedder: Embedder, backend: str) -> None:
        self._embedder = embedder
        self._backend = backend
        self._bulk: Embedder | None = None
        self.name: str | None = None  # the backend that embedded, once one has

    def embed(self, texts: list[str]) -> np.ndarray:
        if self._bulk is None:
            from qa.embed.bulk import bulk_embedder  # imports a runtime (OpenVINO, torch) only when a build embeds

            self._bulk = bulk_embedder(self._embedder, self._backend)
            # an embedder a caller wrote may predate `backend`: it encodes by itself, like the reference
            self.name = getattr(self._bulk, "backend", REFERENCE_BACKEND)
        return self._bulk.embed(texts)


@dataclass
class PendingDocument:
    doc: Document
    position: int  # its place in the corpus
    version: str  # document_version, as read
    passages: list[Passage]


@dataclass
class EmbedBatch:
    """Documents waiting to be embedded and committed together."""

    documents: list[PendingDocument] = field(default_factory=list)
    passages: int = 0

    def add(self, pending: PendingDocument) -> None:
        self.documents.append(pending)
        self.passages += len(pending.passages)

    def texts(self) -> tuple[list[str], list[list[list[tuple[int, int]]]]]:
        """Every passage's text, then every sentence's; and the sentence spans per document and passage."""
        spans = [[sentence_spans_of(p) for p in d.passages] for d in self.documents]
        texts = [p.text for d in self.documents for p in d.passages]
        texts += [
            _slice(p, start, end)
            for d, doc_spans in zip(self.documents, spans, strict=True)
            for p, passage_spans in zip(d.passages, doc_spans, strict=True)
            for start, end in passage_spans
        ]
        return texts, spans


def embed_and_store(
    batch: EmbedBatch, encoder: LazyEncoder, database: PassageDatabase, vectors: faiss.Index | None
) -> tuple[int, list[int]]:
    """Embed the batch's passages and sentences, then commit them one document at a time (each a checkpoint).

    Updates `vectors` in place when given. Returns the texts embedded and the rows of replaced versions.
    """
    texts, spans = batch.texts()
    fresh = encoder.embed(texts)
    cursor_p, cursor_s = 0, batch.passages
    removed: list[int] = []
    for pending, doc_spans in zip(batch.documents, spans, strict=True):
        stored = []
        for passage, passage_spans in zip(pending.passages, doc_spans, strict=True):
            end = cursor_s + len(passage_spans)
            sentence_spans = np.asarray(passage_spans, dtype=np.int64).reshape(-1, 2)
            stored.append(StoredPassage(passage, fresh[cursor_p], sentence_spans, fresh[cursor_s:end]))
            cursor_p, cursor_s = cursor_p + 1, end
        rows, gone = database.add_document(document_meta(pending.doc), pending.position, stored, pending.version)
        removed.extend(gone)
        if vectors is not None:
            ann.remove(vectors, gone)
            if stored:
                ann.add(vectors, np.array(rows, dtype=np.int64), np.vstack([s.vector for s in stored]))
    return len(texts), removed


def _slice(passage: Passage, start: int, end: int) -> str:
    return passage.text[start - passage.start : end - passage.start]
