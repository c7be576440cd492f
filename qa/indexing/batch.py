"""One embed batch of a build: documents read and chunked, embedded together, committed one by one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import faiss
import numpy as np

import qa.storage.vectors as ann
from qa.chunk import sentence_spans_of
from qa.indexing.documents import document_meta
from qa.records import Document, Passage, StoredPassage
from qa.storage.database import PassageDatabase


class SpanEncoder(Protocol):
    """What a build embeds with: LazyEncoder in this process, qa.embed.runtimes.ray_embedder.RayEncoders on Ray."""

    name: str | None  # the backend that embedded, once one has

    def prepare(self) -> None: ...

    def embed_with_spans(
        self, texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]: ...

    def close(self) -> None: ...


class KnownVectors(Protocol):
    """Vectors made before for the same texts (qa.storage.milvus.MilvusStore: a mirror of the index)."""

    def known_vectors(
        self, model: str, sentences: str, passages: list[Passage], spans: list[list[tuple[int, int]]]
    ) -> list[tuple[int, np.ndarray, np.ndarray] | None]: ...


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
        """Every passage's text; and the raw-file sentence spans per document and passage."""
        spans = [[sentence_spans_of(p) for p in d.passages] for d in self.documents]
        return [p.text for d in self.documents for p in d.passages], spans


def embed_and_store(
    batch: EmbedBatch,
    encoder: SpanEncoder,
    database: PassageDatabase,
    vectors: faiss.Index | None,
    known: KnownVectors | None = None,
    model: tuple[str, str] = ("", ""),
) -> tuple[int, int]:
    """Embed the batch's passages and sentences, then commit them one document at a time (each a checkpoint).

    Passages whose vectors `known` holds (for `model`: its name and sentence method) take them instead of
    being embedded; a document whose passages are all known keeps their rows there when none of them holds
    another passage here. Updates `vectors` in place when given: a replaced version's rows leave it before
    the new version's enter. Returns the texts embedded and the passages whose vectors were known.
    """
    texts, spans = batch.texts()
    passages = [p for d in batch.documents for p in d.passages]
    found: list[tuple[int, np.ndarray, np.ndarray] | None] = [None] * len(passages)
    if known is not None:
        found = known.known_vectors(*model, passages, _flat(spans))
    made, embedded = _made(texts, passages, _flat(spans), found, encoder)
    cursor = 0
    for pending, doc_spans in zip(batch.documents, spans, strict=True):
        count = len(pending.passages)
        known_rows = [hit[0] for hit in found[cursor : cursor + count] if hit is not None]
        keep = known_rows if len(known_rows) == count else None
        stored = [
            StoredPassage(passage, vector, np.asarray(passage_spans, dtype=np.int64).reshape(-1, 2), sentences)
            for passage, passage_spans, (vector, sentences) in zip(
                pending.passages, doc_spans, made[cursor : cursor + count], strict=True
            )
        ]
        cursor += count
        meta = document_meta(pending.doc)
        rows, gone = database.add_document(meta, pending.position, stored, pending.version, keep)
        if vectors is not None:
            ann.remove(vectors, gone)
            if stored:
                ann.add(vectors, np.array(rows, dtype=np.int64), np.vstack([s.vector for s in stored]))
    return embedded, sum(hit is not None for hit in found)


def _made(
    texts: list[str],
    passages: list[Passage],
    spans: list[list[tuple[int, int]]],
    found: list[tuple[int, np.ndarray, np.ndarray] | None],
    encoder: SpanEncoder,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], int]:
    """Each passage's (vector, sentence vectors): those `found`, the others embedded; and the texts embedded."""
    todo = [i for i, hit in enumerate(found) if hit is None]
    made = {i: (hit[1], hit[2]) for i, hit in enumerate(found) if hit is not None}
    if not todo:
        return [made[i] for i in range(len(passages))], 0
    relative = [[(s - passages[i].start, e - passages[i].start) for s, e in spans[i]] for i in todo]
    fresh, sentences = encoder.embed_with_spans([texts[i] for i in todo], relative)
    made.update((i, (fresh[place], sentences[place])) for place, i in enumerate(todo))
    return [made[i] for i in range(len(passages))], len(todo) + sum(len(found) for found in sentences)


def _flat(spans: list[list[list[tuple[int, int]]]]) -> list[list[tuple[int, int]]]:
    return [passage_spans for doc_spans in spans for passage_spans in doc_spans]
