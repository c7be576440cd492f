"""What one passage and one document are in the store: entities, document records, vector digests."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any, NamedTuple, TypeVar

import numpy as np

from qa.records import DocumentMeta, Passage
from qa.storage.bm25 import bm25_words
from qa.storage.generations import StoredIndex
from qa.storage.milvus.expressions import haystack
from qa.storage.milvus.schema import checked

BATCH = 1000  # entities inserted (and rows read) per call

MAX_LIMIT = 16384  # the most hits one Milvus search may return (offset + limit)

MANIFEST_KEY = "manifest"

DOC = "doc:"

T = TypeVar("T")


class Found(NamedTuple):
    """A passage a Milvus search found: its row in the generation mirrored, its score, and its id (so that a
    reader can check the row is the same passage in its own generation)."""

    row: int
    score: float
    passage_id: str


def found_of(hit: Any, score: float) -> Found:
    return Found(int(hit.id), score, str(hit.get("passage_id") or ""))


def entity(
    row: int,
    passage: Passage,
    meta: DocumentMeta,
    vector: np.ndarray,
    sentences: tuple[np.ndarray, np.ndarray] | None,
    stopwords: frozenset[str],
    dim: int,
) -> dict[str, Any]:
    spans, sentence_vectors = sentences or (np.zeros((0, 2), np.int64), np.zeros((0, dim), np.float16))
    fields = {
        "passage_id": passage.id,
        "doc_key": passage.doc_key,
        "doc_sha": meta.sha256,
        "path": meta.path,
        "source_id": meta.source_id or "",
        "title": meta.title or "",
        "publisher": meta.publisher or "",
        "byline": meta.byline or "",
        "published": meta.published or "",
        "haystack_lc": haystack(meta),
        "text": passage.text,
        "sentence_spans": json.dumps(np.asarray(spans, dtype=np.int64).tolist()),
        "sentence_vectors": base64.b64encode(np.asarray(sentence_vectors, dtype="<f2").tobytes()).decode("ascii"),
        "terms": " ".join(bm25_words(passage.text, stopwords)),
    }
    for name, value in fields.items():
        checked(value, f"the {name} of passage {row} ({passage.doc_key})")
    return {
        "row": int(row),
        **fields,
        "start": passage.start,
        "end": passage.end,
        "line_start": passage.line_start,
        "line_end": passage.line_end,
        "vector": np.asarray(vector, dtype=np.float32),
    }


def sentences_of(record: dict[str, Any], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """A stored passage's sentence evidence: spans (k, 2) int64 and float16 vectors (k, dim)."""
    spans = np.asarray(json.loads(record["sentence_spans"]), dtype=np.int64).reshape(-1, 2)
    raw = base64.b64decode(record["sentence_vectors"])
    return spans, np.frombuffer(raw, dtype="<f2").astype(np.float16).reshape(-1, dim)


def vector_digest(vector: np.ndarray, sentence_vectors: np.ndarray) -> str:
    """A passage's vectors as they are stored (float32 passage, float16 sentences), hashed: recorded at sync
    with each document, checked before a build takes a stored vector (`known_vectors`)."""
    digest = hashlib.sha256(np.asarray(vector, dtype="<f4").tobytes())
    digest.update(np.asarray(sentence_vectors, dtype="<f2").tobytes())
    return digest.hexdigest()[:32]


def sound(vector: np.ndarray, sentence_vectors: np.ndarray, digest: str | None) -> bool:
    """Whether vectors read from the store can be taken as they are: finite, the passage's of unit length
    (the index stores normalised vectors), and, where the sync recorded one, matching their digest."""
    if not (np.isfinite(vector).all() and np.isfinite(sentence_vectors.astype(np.float32)).all()):
        return False
    if abs(float(np.linalg.norm(vector)) - 1.0) > 1e-3:
        return False
    return digest is None or vector_digest(vector, sentence_vectors) == digest


def doc_record(meta: DocumentMeta, rows: list[int], position: int, digests: list[str] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"meta": asdict(meta), "rows": rows, "position": position}
    if digests is not None:
        entry["digests"] = digests
    value = json.dumps(entry, ensure_ascii=False)
    return {
        "key": checked(DOC + meta.key, f"the key of {meta.key}"),
        "value": checked(value, f"the record of {meta.key}"),
    }


def recorded(stored: dict[str, dict[str, Any]]) -> int:
    """The passages the document records name."""
    return sum(len(entry["rows"]) for entry in stored.values())


def writer_of(index: StoredIndex) -> str:
    """The writer an index is: this machine and its index folder."""
    return f"{socket.gethostname()}:{index.path.parent.absolute()}"


def parts(values: list[T], size: int) -> Iterator[list[T]]:
    for begin in range(0, len(values), size):
        yield values[begin : begin + size]


def as_list(vector: np.ndarray) -> list[float]:
    return [float(x) for x in np.asarray(vector, dtype=np.float32).reshape(-1)]


def limit_of(depth: int) -> int:
    return max(1, min(int(depth), MAX_LIMIT))
