"""Milvus as a serving engine: a mirror of one built index generation, searched by Milvus (issue 17).

The embedded store (qa/storage/generations.py: SQLite + FAISS + bm25s arrays) stays the reference: builds
write it, and `MilvusStore.sync(index)` copies a loaded generation into a Milvus collection, incrementally
(documents whose key, metadata and rows are already there are kept; gone or changed ones are deleted by
`doc_key in [...]`; new ones inserted a batch at a time). Nothing is ever built in Milvus first.

Targets (`MilvusTarget.parse`): ``milvus:PATH.db`` is Milvus Lite, embedded in this process (milvus-lite 3,
pure Python; one process per .db); ``milvus://HOST:PORT`` a Milvus server. A ``#name`` suffix picks the
collection (default ``newsqa``); the store also keeps ``<name>_meta`` (see below).

Collection ``<name>``, one entity per passage:

- ``row`` INT64 primary key: the generation's row (so hits map straight back to the embedded store).
- ``passage_id``, ``doc_key``, ``doc_sha``, ``path``, ``source_id``, ``title``, ``publisher``, ``byline``,
  ``published`` VARCHAR ("" for a missing value; ``published`` is YYYY-MM-DD, so range filters compare
  strings), and ``haystack_lc``: the casefolded publisher, byline, title, path and record id joined by
  newlines, the fields qa/search/filters.py matches ``source`` in (Milvus's ``like`` is case-sensitive and
  has no lower()).
- ``start``, ``end``, ``line_start``, ``line_end`` INT64; ``text`` VARCHAR, the passage verbatim.
- ``terms`` VARCHAR: the passage's BM25 words exactly as qa/storage/bm25.py tokenises them (lower-cased,
  bm25s's token pattern and stoplist, Snowball stems) joined by spaces, analysed by splitting only
  (``whitespace`` on a server; Lite has only ``standard``, which on these lower-case ``\\w+`` stems splits
  the same), feeding a BM25 Function into ``sparse`` (SPARSE_FLOAT_VECTOR, SPARSE_INVERTED_INDEX, k1 1.5,
  b 0.75 as ours). Milvus Lite has no stemmer or English stoplist, so the stemming is ours, on both sides.
- ``vector`` FLOAT_VECTOR(dim), metric IP on the L2-normalised vectors (= cosine). Index: FLAT in Lite
  (exact, as FAISS flat; Lite's HNSW costs 10-15 s to build per 20k rows on 2 cores for a few ms a query),
  HNSW (M 16, efConstruction 200, ef max(64, depth)) on a server, where a collection is large enough for
  exhaustive search to cost.
- ``sentence_spans`` VARCHAR (JSON ``[[start, end], ...]``) and ``sentence_vectors`` VARCHAR (base64 of the
  (k, dim) little-endian float16 matrix): the sentence evidence highlights need. Milvus has no
  variable-length binary or multi-vector field that Lite supports (FLOAT16_VECTOR is one vector per entity;
  one entity per sentence would triple the rows and need an index of its own), and a VARCHAR works in every
  Milvus. Measured on the BBC, realtimeqa and SQuAD indexes: at most 11 sentences (11 KiB base64 at dim
  384) and 781 bytes of text per passage, against a VARCHAR limit of 65,535 bytes, checked on every row.

Collection ``<name>_meta`` (VARCHAR key, JSON value, a 2-d placeholder vector Milvus requires): the row
``manifest`` (format, model name and dim, bm25s's stoplist, the generation last synced, counts), and one
``doc:<key>`` row per document (its DocumentMeta, rows and place in the corpus order), from which sync
decides what changed and `documents()` rebuilds the records, documents without passages included.

Known differences from the embedded store:

- BM25 IDF is per segment in Milvus (the Lite README says so; measured: the same text scored 7.09 in one
  flushed segment and 14.18 in another), and the corpus statistics are Milvus's, not bm25s's: lexical
  rankings agree with ours only approximately, and scores differ (Lite returns them negated; they are
  given back positive). There is no ceiling, so no absolute 0-1 BM25 share as in qa/search/ranking.py.
- `hybrid` fuses in Milvus with WeightedRanker(0.5, 0.5), arctan-normalised scores (the closer match to
  our convex combination of absolute scores; RRF, offered too, uses ranks only), and a passage that only
  one leg returned gets 0 from the other; ours reads every candidate's exact missing score.
- The ``source`` filter matches the document's path relative to the corpus, not the shown path with the
  corpus folder in front of it, and a backslash in the needle matches any one character (Lite's ``like``
  mishandles escaped backslashes).
- Equal scores come back in Milvus's order; the Retriever re-orders them by corpus position.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit

import numpy as np

from qa.errors import BadInputError, MissingExtraError, QAError
from qa.records import DocumentMeta, Passage
from qa.storage.bm25 import bm25_words
from qa.storage.generations import StoredIndex
from qa.text.plural import counted

__all__ = [
    "DEFAULT_COLLECTION",
    "MilvusStore",
    "MilvusTarget",
    "StoreMismatchError",
    "StoreUnavailableError",
    "SyncReport",
]

DEFAULT_COLLECTION = "newsqa"
FORMAT = "newsqa-milvus"
FORMAT_VERSION = 1
BATCH = 1000  # entities inserted (and rows read) per call
MAX_VARCHAR = 65535  # Milvus's longest VARCHAR, in bytes
MAX_LIMIT = 16384  # the most hits one Milvus search may return (offset + limit)
_MANIFEST_KEY = "manifest"
_DOC = "doc:"
_META_SUFFIX = "_meta"  # collection <name> keeps its manifest and document records in <name>_meta
_NAME_MAX = 255  # bytes in one file name (a Lite .db is a folder)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,199}$")  # Milvus's collection names, leaving room for "_meta"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TEXT_FIELDS = (
    "passage_id",
    "doc_key",
    "doc_sha",
    "path",
    "source_id",
    "title",
    "publisher",
    "byline",
    "published",
    "haystack_lc",
    "text",
    "sentence_spans",
    "sentence_vectors",
)
_INT_FIELDS = ("start", "end", "line_start", "line_end")
_PASSAGE_FIELDS = ["passage_id", "doc_key", "start", "end", "line_start", "line_end", "text"]
# Lite holds one process per .db: stores of one path in this process share its embedded server
_LITE_OPEN: dict[str, int] = {}
_LITE_LOCK = threading.Lock()
_T = TypeVar("_T")
_NEVER = object()  # a store object that has not synced: no stamp to compare
_FAILED = object()  # a store object whose last sync failed: the store may hold anything


class StoreUnavailableError(QAError):
    """The Milvus store cannot be reached or opened (a server down, a .db held by another process), or a
    call to it failed or ran past its timeout."""

    exit_code = 2


class StoreMismatchError(QAError):
    """The Milvus store holds what this generation cannot be mixed with (another model or dimension), or a
    value longer than Milvus stores."""

    exit_code = 2


class StoreOutOfStepError(QAError):
    """Rows a Milvus search returned are not the same passages in the reader's generation: another index
    folder has synced the store since (a mirror has one writer)."""

    exit_code = 2


class Found(NamedTuple):
    """A passage a Milvus search found: its row in the generation mirrored, its score, and its id (so that a
    reader can check the row is the same passage in its own generation)."""

    row: int
    score: float
    passage_id: str


@dataclass(frozen=True)
class MilvusTarget:
    """Where the store is: an embedded Milvus Lite .db (`local`) or a server's URI, and the collection."""

    uri: str  # the .db folder's absolute path, or http://HOST:PORT
    collection: str = DEFAULT_COLLECTION
    local: bool = True

    @classmethod
    def parse(cls, spec: str) -> MilvusTarget:
        """``milvus:PATH.db`` (relative to the current directory) or ``milvus://HOST:PORT``, then an optional
        ``#collection``."""
        text = spec.strip()
        if not text.startswith("milvus:"):
            raise BadInputError(f"not a Milvus store: {spec!r} (expected milvus:PATH.db or milvus://HOST:PORT)")
        base, collection = text, DEFAULT_COLLECTION
        if "#" in text and not text.endswith(".db"):  # a '#' inside a .db path is part of the path
            base, _, collection = text.rpartition("#")
            if not _NAME.match(collection):
                raise BadInputError(
                    f"bad Milvus collection name {collection!r} in {spec!r}: letters, digits and underscores,"
                    " not starting with a digit, at most 200"
                )
            if collection.endswith(_META_SUFFIX):
                raise BadInputError(
                    f"bad Milvus collection name {collection!r} in {spec!r}: a name ending in {_META_SUFFIX!r} is"
                    " the store's own (it keeps <name>_meta beside each collection <name>)"
                )
        if base.startswith("milvus://"):
            return cls(_server_uri(base, spec), collection, local=False)
        path = base[len("milvus:") :]
        if not path.endswith(".db") or path == ".db":
            raise BadInputError(f"a Milvus Lite store is a path ending in .db: {spec!r}")
        if len(Path(path).name.encode("utf-8", "surrogateescape")) > _NAME_MAX:
            raise BadInputError(f"the Milvus Lite store's name is longer than a file name may be ({_NAME_MAX} bytes)")
        return cls(str(Path(path).expanduser().absolute()), collection, local=True)

    def __str__(self) -> str:
        where = f"milvus:{self.uri}" if self.local else f"milvus://{self.uri.removeprefix('http://')}"
        return where if self.collection == DEFAULT_COLLECTION else f"{where}#{self.collection}"


def _server_uri(base: str, spec: str) -> str:
    try:
        parts = urlsplit(base)
        port = parts.port
    except ValueError:
        port = None
        parts = None
    if parts is None or not parts.hostname or port is None or parts.path not in ("", "/") or parts.query:
        raise BadInputError(f"a Milvus server is milvus://HOST:PORT: {spec!r}")
    return f"http://{parts.netloc}"


@dataclass(frozen=True)
class SyncReport:
    """What one sync changed: documents (re)written, documents whose old passages were deleted (gone or
    changed), passages written; documents left as they were, and the time taken."""

    added_documents: int
    removed_documents: int
    passages: int
    kept_documents: int = 0
    seconds: float = 0.0
    repaired: tuple[int, int] | None = None  # (passages held, passages recorded) when they differed: all rewritten

    @property
    def changed(self) -> bool:
        return bool(self.added_documents or self.removed_documents)

    def summary(self) -> str:
        if self.repaired is not None:
            held, recorded = self.repaired
            return (
                f"held {counted(held, 'passage')} where its records named {recorded}: rewritten whole"
                f" ({counted(self.added_documents, 'document')}, {self.passages} passages, {self.seconds:.1f} s)"
            )
        if not self.changed:
            return f"in step ({self.kept_documents} documents), {self.seconds:.1f} s"
        written = f"{counted(self.added_documents, 'document')} written"
        return f"{written}, {self.removed_documents} removed, {self.passages} passages, {self.seconds:.1f} s"


class MilvusStore:
    """A Milvus collection mirroring a generation's passages, searched by Milvus. Open with `open`."""

    def __init__(
        self, target: MilvusTarget, dim: int, client: Any, timeout: float, errors: tuple[type[BaseException], ...]
    ) -> None:
        self.target = target
        self.dim = dim
        self._client = client
        self._timeout = timeout
        self._errors = errors
        self._meta = f"{target.collection}{_META_SUFFIX}"
        self._manifest: dict[str, Any] | None = None
        self._closed = False
        self.refused = 0  # stored vectors known_vectors refused (damaged): those passages were embedded again
        self._damaged: set[str] = set()  # documents holding such a vector
        self._stamp_seen: object = _NEVER  # the manifest's stamp when this object last found the store in step

    # -- opening ------------------------------------------------------------------------------------------

    @classmethod
    def open(cls, target: MilvusTarget | str, dim: int, *, timeout: float = 10.0) -> MilvusStore:
        """Connect (every call bounded by `timeout` seconds) and create the collections if missing."""
        if isinstance(target, str):
            target = MilvusTarget.parse(target)
        pymilvus = _pymilvus()
        errors = _error_types(pymilvus)
        if target.local:
            if importlib.util.find_spec("milvus_lite") is None:
                raise MissingExtraError("the embedded Milvus store", "milvus", "milvus-lite")
            if not Path(target.uri).parent.is_dir():
                raise StoreUnavailableError(f"cannot open {target}: no folder {Path(target.uri).parent}")
        try:
            client = pymilvus.MilvusClient(uri=target.uri, timeout=timeout)
        except errors as exc:
            raise StoreUnavailableError(_unavailable(target, exc)) from exc
        if target.local:
            with _LITE_LOCK:
                _LITE_OPEN[target.uri] = _LITE_OPEN.get(target.uri, 0) + 1
        store = cls(target, dim, client, timeout, errors)
        try:
            store._prepare(pymilvus)
        except BaseException:
            store.close()
            raise
        return store

    def _prepare(self, pymilvus: Any) -> None:
        name, client, timeout = self.target.collection, self._client, self._timeout
        with self._calls("open its collections"):
            if not client.has_collection(name, timeout=timeout):
                schema, indexes = self._passage_schema(pymilvus)
                client.create_collection(name, schema=schema, index_params=indexes, timeout=timeout)
            else:
                stored = _vector_dim(client.describe_collection(name, timeout=timeout))
                if stored != self.dim:
                    raise StoreMismatchError(
                        f"{self.target} holds vectors of dimension {stored}, not {self.dim}: "
                        "give this index its own collection (#name) or its own store"
                    )
            if not client.has_collection(self._meta, timeout=timeout):
                schema, indexes = _meta_schema(pymilvus, client)
                client.create_collection(
                    # sync reads back what it just wrote here: no staleness allowed on a server
                    self._meta,
                    schema=schema,
                    index_params=indexes,
                    consistency_level="Strong",
                    timeout=timeout,
                )
            client.load_collection(name, timeout=timeout)
            client.load_collection(self._meta, timeout=timeout)
            self._manifest = self._read_manifest()

    def _passage_schema(self, pymilvus: Any) -> tuple[Any, Any]:
        DataType, client = pymilvus.DataType, self._client  # noqa: N806 - pymilvus's enum
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("row", DataType.INT64, is_primary=True)
        for field in _TEXT_FIELDS:
            schema.add_field(field, DataType.VARCHAR, max_length=MAX_VARCHAR)
        for field in _INT_FIELDS:
            schema.add_field(field, DataType.INT64)
        analyzer = {"tokenizer": "standard"} if self.target.local else {"tokenizer": "whitespace"}
        schema.add_field(
            "terms", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True, analyzer_params=analyzer
        )
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        schema.add_function(
            pymilvus.Function(
                name="terms_bm25",
                function_type=pymilvus.FunctionType.BM25,
                input_field_names=["terms"],
                output_field_names=["sparse"],
            )
        )
        indexes = client.prepare_index_params()
        if self.target.local:
            indexes.add_index("vector", index_type="FLAT", metric_type="IP")
        else:
            indexes.add_index("vector", index_type="HNSW", metric_type="IP", params={"M": 16, "efConstruction": 200})
        indexes.add_index(
            "sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={"bm25_k1": 1.5, "bm25_b": 0.75}
        )
        return schema, indexes

    # -- errors and calls ---------------------------------------------------------------------------------

    @contextmanager
    def _calls(self, what: str) -> Iterator[None]:
        """Milvus's and gRPC's errors (a deadline passed included) as one-line StoreUnavailableErrors."""
        if self._closed:
            raise StoreUnavailableError(f"the Milvus store {self.target} is closed")
        try:
            yield
        except QAError:
            raise
        except self._errors as exc:
            raise StoreUnavailableError(f"the Milvus store {self.target} failed to {what}: {_first_line(exc)}") from exc

    def close(self) -> None:
        """Disconnect; the last store of a Lite .db in this process stops its embedded server, so that
        another process can open the .db."""
        if self._closed:
            return
        self._closed = True
        try:
            self._client.close()
        except self._errors:
            pass
        if self.target.local:
            with _LITE_LOCK:
                left = _LITE_OPEN.get(self.target.uri, 1) - 1
                if left > 0:
                    _LITE_OPEN[self.target.uri] = left
                    return
                _LITE_OPEN.pop(self.target.uri, None)
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(self.target.uri)

    def __enter__(self) -> MilvusStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the manifest and the documents -------------------------------------------------------------------

    def _read_manifest(self) -> dict[str, Any] | None:
        got = self._client.get(self._meta, ids=[_MANIFEST_KEY], output_fields=["value"], timeout=self._timeout)
        return json.loads(got[0]["value"]) if got else None

    @property
    def manifest(self) -> dict[str, Any] | None:
        """What the store says of itself (model, dim, generation synced, counts); None before any sync."""
        return self._manifest

    def _stored_documents(self) -> dict[str, dict[str, Any]]:
        """document key -> {"meta", "rows", "position"} as the last sync wrote it."""
        out: dict[str, dict[str, Any]] = {}
        for record in self._scan(self._meta, f'key like "{_DOC}%"', ["key", "value"]):
            out[str(record["key"])[len(_DOC) :]] = json.loads(record["value"])
        return out

    def _scan(self, collection: str, expr: str, fields: list[str]) -> Iterator[dict[str, Any]]:
        iterator = self._client.query_iterator(
            collection, batch_size=BATCH, filter=expr, output_fields=fields, timeout=self._timeout
        )
        try:
            while batch := iterator.next():
                yield from batch
        finally:
            iterator.close()

    def documents(self) -> dict[str, DocumentMeta]:
        """Every document of the generation synced, in its corpus order."""
        with self._calls("read the documents"):
            stored = self._stored_documents()
        ordered = sorted(stored.values(), key=lambda entry: int(entry["position"]))
        metas = (DocumentMeta(**entry["meta"]) for entry in ordered)
        return {meta.key: meta for meta in metas}

    def count(self) -> int:
        """Passages in the store."""
        with self._calls("count the passages"):
            return self._count()

    def _count(self) -> int:
        got = self._client.query(self.target.collection, filter="", output_fields=["count(*)"], timeout=self._timeout)
        return int(got[0]["count(*)"])

    def _clear(self) -> None:
        """Delete every passage and document record (the manifest stays: the model and dimension hold)."""
        self._client.delete(self.target.collection, filter="row >= 0", timeout=self._timeout)
        self._client.delete(self._meta, filter=f'key like "{_DOC}%"', timeout=self._timeout)
        self._client.flush(self.target.collection, timeout=self._timeout)

    # -- sync ---------------------------------------------------------------------------------------------

    def sync(self, index: StoredIndex, *, take_over: bool = False, check_vectors: bool = False) -> SyncReport:
        """Mirror generation `index` incrementally; an unchanged generation writes nothing. With
        `check_vectors`, every stored vector is read first and the documents of damaged ones written again.

        A mirror has one writer, the index folder that last wrote it (`writer_of`): a sync from another that
        would change what the store holds is refused unless `take_over`; one that would change nothing is
        fine (a replica of the same corpus)."""
        began = time.perf_counter()
        self._stamp_seen = _FAILED  # until this sync has found or made the store in step
        model = index.manifest.model
        if model.dim != self.dim:
            raise StoreMismatchError(f"{self.target} holds vectors of dimension {self.dim}, the index {model.dim}")
        with self._calls("read its manifest"):
            self._manifest = known = self._read_manifest()  # as it is now: another process may have written it
        if known is not None and (known.get("model") != model.name or int(known.get("dim", -1)) != model.dim):
            raise StoreMismatchError(
                f"{self.target} mirrors an index of model {known.get('model')!r} (dim {known.get('dim')}), not"
                f" {model.name!r} (dim {model.dim}): give this index its own collection (#name) or its own store"
            )
        stopwords = index.lexical.stopwords
        with self._calls("sync"):
            stored = self._stored_documents()
            foreign = self._foreign(index, stored)
            if foreign is not None:
                raise StoreMismatchError(foreign)
            owner = (known or {}).get("writer")
            if owner not in (None, writer_of(index)) and not take_over:
                why = self._out_of_step(index, stored)
                if why is not None:
                    raise StoreMismatchError(
                        f"{self.target} is kept by another index ({owner}) and differs from this one ({why}): a"
                        " mirror has one writer; give this index its own collection"
                        f" ({_with_collection(self.target)}), or make it the writer with"
                        " `ask.py index update --store ... --take-over`"
                    )
                self._stamp_seen = (known or {}).get("stamp")
                return SyncReport(0, 0, 0, kept_documents=len(stored), seconds=time.perf_counter() - began)
            if known is None:
                self._write_manifest(index, stopwords, 0)  # first: a store never holds passages of no model
            if check_vectors:
                self._damaged.update(self.damaged_vectors())
            held = self._count()
            recorded = _recorded(stored)
            if held != recorded:  # passages lost (a dropped collection) or strays: the records say nothing true
                self._clear()
                stored = {}
            stored = {key: entry for key, entry in stored.items() if key not in self._damaged}
            gone = [key for key in stored if key not in index.documents]
            self._delete_documents(gone)
            writer = _Writer(self, index, stopwords)
            kept, moved = 0, []
            for key, group, position, state in _compared(index, stored):
                if state == _WRITE:
                    writer.add(key, group, position, replaces=key in stored)
                    continue
                kept += 1
                if state == _MOVED:
                    moved.append((key, position))
            writer.finish()
            if moved:
                self._upsert_meta(
                    [_doc_record(index.documents[k], stored[k]["rows"], p, stored[k].get("digests")) for k, p in moved]
                )
            changed = bool(gone or writer.documents or moved)
            if changed:
                self._client.flush(self.target.collection, timeout=self._timeout)
            if changed or known is None or known.get("generation") != index.path.name or owner != writer_of(index):
                self._write_manifest(index, stopwords, index.count)
                self._client.flush(self._meta, timeout=self._timeout)
        self._damaged.clear()
        self._stamp_seen = (self._manifest or {}).get("stamp")
        return SyncReport(
            added_documents=writer.documents,
            removed_documents=len(gone) + writer.replaced,
            passages=writer.passages,
            kept_documents=kept,
            seconds=time.perf_counter() - began,
            repaired=(held, recorded) if held != recorded else None,
        )

    def in_step(self, index: StoredIndex) -> bool:
        """Whether the store holds generation `index` as a sync would write it (whichever index wrote it): its
        document records are the generation's and it holds as many passages as they name."""
        return self.out_of_step(index) is None

    def out_of_step(self, index: StoredIndex) -> str | None:
        """Why the store does not hold generation `index` as a sync would write it, or None when it does."""
        with self._calls("read the documents"):
            return self._out_of_step(index, self._stored_documents())

    def _out_of_step(self, index: StoredIndex, stored: dict[str, dict[str, Any]]) -> str | None:
        held = self._count()
        recorded = _recorded(stored)
        if held != recorded:
            return f"it holds {counted(held, 'passage')} where its records name {recorded}"
        extra = sum(key not in index.documents for key in stored)
        if extra:
            return f"documents it holds that this index does not: {extra}"
        states = [state for _, _, _, state in _compared(index, stored)]
        if states.count(_WRITE):
            return f"documents of this index it does not hold as they are: {states.count(_WRITE)}"
        return f"documents elsewhere in its corpus order: {states.count(_MOVED)}" if _MOVED in states else None

    def foreign(self, index: StoredIndex) -> str | None:
        """Why a sync of `index` would be refused (the store mirrors another corpus), or None."""
        with self._calls("read the documents"):
            return self._foreign(index, self._stored_documents())

    def _foreign(self, index: StoredIndex, stored: dict[str, dict[str, Any]]) -> str | None:
        """A store that holds documents of another corpus folder, fewer than half of them in `index`, mirrors
        another corpus: syncing would replace it. (The same corpus mounted elsewhere shares most documents.)"""
        corpus = (self._manifest or {}).get("corpus")
        if not stored or corpus is None or corpus == index.manifest.corpus.root:
            return None
        documents = index.documents
        shared = sum(
            key in documents and entry["meta"].get("sha256") == documents[key].sha256 for key, entry in stored.items()
        )
        if 2 * shared >= len(stored):
            return None
        return (
            f"{self.target} mirrors another corpus ({corpus}: {len(stored)} documents, {shared} of them the same in"
            f" this index): give this index its own collection ({_with_collection(self.target)}) or its own store"
        )

    def damaged_vectors(self) -> dict[str, int]:
        """document key -> how many of its stored passages' vectors are damaged (not finite, not of unit
        length, or not matching the digest the sync recorded); reads every vector in the store."""
        with self._calls("read every vector"):
            stored = self._stored_documents()
            digests = {
                row: digest
                for entry in stored.values()
                for row, digest in zip(entry["rows"], entry.get("digests") or [], strict=False)
            }
            fields = ["row", "doc_key", "vector", "sentence_spans", "sentence_vectors"]
            out: dict[str, int] = {}
            for record in self._scan(self.target.collection, "row >= 0", fields):
                vector = np.asarray(record["vector"], dtype=np.float32)
                if not _sound(vector, _sentences(record, self.dim)[1], digests.get(int(record["row"]))):
                    out[record["doc_key"]] = out.get(record["doc_key"], 0) + 1
        return out

    def unchanged(self) -> None:
        """Raise StoreOutOfStepError when another index has written the store since this one last synced it
        (its manifest's stamp changed); nothing when this store object never synced."""
        if self._stamp_seen is _NEVER:
            return
        if self._stamp_seen is _FAILED:
            raise StoreOutOfStepError("the last sync of the mirror did not finish")
        with self._calls("read its manifest"):
            now = self._read_manifest() or {}
        if now.get("stamp") != self._stamp_seen:
            raise StoreOutOfStepError(
                f"another index ({now.get('writer')}) has written the mirror since this one synced it"
            )

    def _write_manifest(self, index: StoredIndex, stopwords: frozenset[str], passages: int) -> None:
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "model": index.manifest.model.name,
            "dim": index.manifest.model.dim,
            "corpus": index.manifest.corpus.root,  # the corpus folder it mirrors (a sync of another is refused)
            "sentences": index.manifest.model.sentences,  # how the sentence vectors were made (qa/embed/texts.py)
            "stopwords": sorted(stopwords),
            "generation": index.path.name if passages else None,
            "documents": len(index.documents),
            "passages": passages,
            "writer": writer_of(index),  # the one index folder that writes this store (sync's take_over)
            "stamp": uuid.uuid4().hex,  # new at every write: a reader that sees another knows it changed under it
        }
        self._upsert_meta([{"key": _MANIFEST_KEY, "value": _checked(json.dumps(manifest), "the manifest")}])
        self._manifest = manifest

    def _upsert_meta(self, records: list[dict[str, Any]]) -> None:
        for part in _parts(records, BATCH):
            entities = [{**record, "placeholder": [0.0, 0.0]} for record in part]
            self._client.upsert(self._meta, entities, timeout=self._timeout)

    def _delete_documents(self, keys: list[str]) -> None:
        """Delete these documents' passages and records."""
        for part in _parts(keys, 500):
            self._client.delete(self.target.collection, filter=f"doc_key in {_list(part)}", timeout=self._timeout)
            self._client.delete(self._meta, ids=[_DOC + key for key in part], timeout=self._timeout)

    # -- searches -----------------------------------------------------------------------------------------

    def dense(
        self,
        vector: np.ndarray,
        depth: int,
        *,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        rows: Sequence[int] | None = None,
    ) -> list[Found]:
        """(row, cosine, passage id) of the `depth` nearest passages among those the filters keep, best first."""
        with self._calls("search the vectors"):
            found = self._client.search(
                self.target.collection,
                data=[_vector(vector)],
                anns_field="vector",
                limit=_limit(depth),
                search_params=self._dense_params(depth),
                filter=filter_expression(source, since, until, rows),
                output_fields=["passage_id"],
                timeout=self._timeout,
            )
        return [_found(hit, float(hit.distance)) for hit in found[0]]

    def lexical(
        self,
        question: str,
        depth: int,
        *,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        rows: Sequence[int] | None = None,
    ) -> list[Found]:
        """(row, BM25, passage id) of the best `depth` passages sharing a word (stem) with `question`, best
        first."""
        terms = self._terms(question)
        if not terms:
            return []
        with self._calls("search the words"):
            found = self._client.search(
                self.target.collection,
                data=[terms],
                anns_field="sparse",
                limit=_limit(depth),
                search_params={"metric_type": "BM25"},
                filter=filter_expression(source, since, until, rows),
                output_fields=["passage_id"],
                timeout=self._timeout,
            )
        hits = [_found(hit, abs(float(hit.distance))) for hit in found[0]]  # Lite gives -BM25, a server BM25
        return [hit for hit in hits if hit.score > 0]

    def hybrid(
        self,
        vector: np.ndarray,
        question: str,
        depth: int,
        *,
        ranker: str = "weighted",
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> list[tuple[int, float]]:
        """(row, fused score) of the best `depth` passages of both searches, fused by Milvus: "weighted"
        (0.5 x each leg's arctan-normalised score, as our 0.5/0.5 convex combination) or "rrf" (k 60)."""
        from pymilvus import AnnSearchRequest, RRFRanker, WeightedRanker

        if ranker not in ("weighted", "rrf"):
            raise BadInputError(f"unknown Milvus ranker {ranker!r} (weighted or rrf)")
        expr = filter_expression(source, since, until)  # in each request: hybrid_search ignores a filter of its own
        requests = [
            AnnSearchRequest(
                data=[_vector(vector)],
                anns_field="vector",
                param=self._dense_params(depth),
                limit=_limit(depth),
                expr=expr,
            )
        ]
        terms = self._terms(question)
        if terms:
            requests.append(
                AnnSearchRequest(
                    data=[terms], anns_field="sparse", param={"metric_type": "BM25"}, limit=_limit(depth), expr=expr
                )
            )
        fusion = WeightedRanker(*([0.5] * len(requests))) if ranker == "weighted" else RRFRanker(60)
        with self._calls("search"):
            found = self._client.hybrid_search(
                self.target.collection,
                requests,
                ranker=fusion,
                limit=_limit(depth),
                output_fields=[],
                timeout=self._timeout,
            )
        return [(int(hit.id), float(hit.distance)) for hit in found[0]]

    def _dense_params(self, depth: int) -> dict[str, Any]:
        if self.target.local:
            return {"metric_type": "IP"}
        return {"metric_type": "IP", "params": {"ef": max(64, _limit(depth))}}

    def _terms(self, question: str) -> str:
        if self._manifest is None:
            return ""
        return " ".join(bm25_words(question, frozenset(self._manifest["stopwords"])))

    # -- readers ------------------------------------------------------------------------------------------

    def _get(self, rows: Iterable[int], fields: list[str], what: str) -> list[dict[str, Any]]:
        wanted = sorted({int(row) for row in rows})
        out: list[dict[str, Any]] = []
        with self._calls(what):
            for part in _parts(wanted, BATCH):
                out.extend(
                    self._client.get(self.target.collection, ids=part, output_fields=fields, timeout=self._timeout)
                )
        return out

    def passages(self, rows: Iterable[int]) -> dict[int, Passage]:
        """row -> its passage, for the rows the store holds."""
        return {
            int(record["row"]): Passage(
                id=record["passage_id"],
                doc_key=record["doc_key"],
                start=int(record["start"]),
                end=int(record["end"]),
                line_start=int(record["line_start"]),
                line_end=int(record["line_end"]),
                text=record["text"],
            )
            for record in self._get(rows, _PASSAGE_FIELDS, "read passages")
        }

    def vectors_of(self, rows: Iterable[int]) -> dict[int, np.ndarray]:
        """row -> its float32 vector."""
        return {
            int(record["row"]): np.asarray(record["vector"], dtype=np.float32)
            for record in self._get(rows, ["vector"], "read vectors")
        }

    def sentences(self, rows: Iterable[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """row -> (spans (k, 2) int64, float16 vectors (k, dim)) of each passage's sentences."""
        records = self._get(rows, ["sentence_spans", "sentence_vectors"], "read sentences")
        return {int(record["row"]): _sentences(record, self.dim) for record in records}

    def known_vectors(
        self, model: str, sentences: str, passages: list[Passage], spans: list[list[tuple[int, int]]]
    ) -> list[tuple[int, np.ndarray, np.ndarray] | None]:
        """For each passage, (its row, its vector, its sentences' float16 vectors) as the store holds them, or
        None.

        A passage is known when the store mirrors an index of `model` whose sentence vectors were made the
        same way (`sentences`, qa/embed/texts.py), and holds a passage of the same document with the same
        offsets, the same text and the same sentence spans (raw offsets, `spans[i]`): its vectors are then
        those this model gives that text. A build takes them rather than embedding again (a serving machine
        or a lost index restored from the mirror)."""
        known = self._manifest
        if not passages or known is None or known.get("model") != model or known.get("sentences") != sentences:
            return [None] * len(passages)
        keys = sorted({passage.doc_key for passage in passages})
        found: dict[tuple[str, int, int], dict[str, Any]] = {}
        digests: dict[int, str] = {}  # row -> its vectors' digest as the sync recorded it
        fields = ["row", "doc_key", "start", "end", "text", "vector", "sentence_spans", "sentence_vectors"]
        with self._calls("read stored vectors"):
            for part in _parts(keys, 500):
                for record in self._scan(self.target.collection, f"doc_key in {_list(part)}", fields):
                    found[(record["doc_key"], int(record["start"]), int(record["end"]))] = record
                for got in self._client.get(self._meta, ids=[_DOC + k for k in part], output_fields=["value"]):
                    entry = json.loads(got["value"])
                    digests.update(zip(entry["rows"], entry.get("digests") or [], strict=False))
        out: list[tuple[int, np.ndarray, np.ndarray] | None] = []
        for passage, passage_spans in zip(passages, spans, strict=True):
            match = found.get((passage.doc_key, passage.start, passage.end))
            if match is None or match["text"] != passage.text:
                out.append(None)
                continue
            stored_spans, sentence_vectors = _sentences(match, self.dim)
            same = np.array_equal(stored_spans, np.asarray(passage_spans, dtype=np.int64).reshape(-1, 2))
            vector = np.asarray(match["vector"], dtype=np.float32)
            sound = _sound(vector, sentence_vectors, digests.get(int(match["row"])))
            if same and not sound:
                self.refused += 1
                self._damaged.add(passage.doc_key)  # the next sync writes the document again
            out.append((int(match["row"]), vector, sentence_vectors) if same and sound else None)
        return out


def _sound(vector: np.ndarray, sentence_vectors: np.ndarray, digest: str | None) -> bool:
    """Whether vectors read from the store can be taken as they are: finite, the passage's of unit length
    (the index stores normalised vectors), and, where the sync recorded one, matching their digest."""
    if not (np.isfinite(vector).all() and np.isfinite(sentence_vectors.astype(np.float32)).all()):
        return False
    if abs(float(np.linalg.norm(vector)) - 1.0) > 1e-3:
        return False
    return digest is None or vector_digest(vector, sentence_vectors) == digest


class _Writer:
    """New and changed documents' passages, written BATCH entities at a time (each document whole)."""

    def __init__(self, store: MilvusStore, index: StoredIndex, stopwords: frozenset[str]) -> None:
        self.store, self.index, self.stopwords = store, index, stopwords
        self.pending: list[tuple[str, list[tuple[int, Passage]], int, bool]] = []
        self.size = 0
        self.documents = self.replaced = self.passages = 0

    def add(self, key: str, group: list[tuple[int, Passage]], position: int, *, replaces: bool) -> None:
        self.pending.append((key, group, position, replaces))
        self.size += len(group)
        if self.size >= BATCH:
            self.finish()

    def finish(self) -> None:
        """Write what is pending: the documents' old passages deleted, the new inserted, then their records
        (last: a sync cut short leaves a document unrecorded, so the next one writes it again)."""
        if not self.pending:
            return
        store, index, client, timeout = self.store, self.index, self.store._client, self.store._timeout
        keys = [key for key, _, _, _ in self.pending]
        rows = [row for _, group, _, _ in self.pending for row, _ in group]
        vectors = index.vectors_of(rows)
        sentences = index.sentences(rows)
        entities = [
            _entity(row, passage, index.documents[key], vectors[row], sentences.get(row), self.stopwords, store.dim)
            for key, group, _, _ in self.pending
            for row, passage in group
        ]
        for part in _parts(keys, 500):  # a changed document's passages, or those of a sync cut short
            client.delete(store.target.collection, filter=f"doc_key in {_list(part)}", timeout=timeout)
        for batch in _parts(entities, BATCH):
            client.insert(store.target.collection, batch, timeout=timeout)
        digests = {e["row"]: vector_digest(e["vector"], _sentences(e, store.dim)[1]) for e in entities}
        records = [
            _doc_record(index.documents[key], [row for row, _ in group], position, [digests[row] for row, _ in group])
            for key, group, position, _ in self.pending
        ]
        store._upsert_meta(records)
        self.documents += len(self.pending)
        self.replaced += sum(replaces for _, _, _, replaces in self.pending)
        self.passages += len(entities)
        self.pending, self.size = [], 0


def _entity(
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
        _checked(value, f"the {name} of passage {row} ({passage.doc_key})")
    return {
        "row": int(row),
        **fields,
        "start": passage.start,
        "end": passage.end,
        "line_start": passage.line_start,
        "line_end": passage.line_end,
        "vector": np.asarray(vector, dtype=np.float32),
    }


def haystack(meta: DocumentMeta) -> str:
    """What the ``source`` filter searches: the casefolded fields qa/search/filters.py matches, one a line."""
    fields = (meta.publisher, meta.byline, meta.title, meta.path, meta.source_id)
    return "\n".join(field.casefold() for field in fields if field)


def filter_expression(
    source: str | None, since: str | None, until: str | None, rows: Sequence[int] | None = None
) -> str:
    """The Milvus expression keeping the passages of documents whose publisher, byline, title, path or record
    id contains `source` (case-insensitive) and dated `since`..`until` (YYYY-MM-DD, inclusive; documents
    without a date left out when either is given), and, when `rows` is given, only those rows (the reader
    worked out which passages `source` keeps: its paths are shown with the corpus folder in front, which the
    mirror does not store); "" when there are no filters."""
    parts = [f"row in [{','.join(str(int(row)) for row in rows)}]"] if rows is not None else []
    if source is not None:
        needle = source.casefold().strip()
        parts.append(f"haystack_lc like {_literal('%' + _like_pattern(needle) + '%')}")
    for bound, name in ((since, "since"), (until, "until")):
        if bound is not None and not _DATE.match(bound):
            raise BadInputError(f"--{name} must be a date YYYY-MM-DD, not {bound!r}")
    if since is not None:
        parts.append(f'published >= "{since}"')  # "" (no date) sorts before every date
    if until is not None:
        parts.append(f'published != "" and published <= "{until}"')
    return " and ".join(parts)


def _like_pattern(needle: str) -> str:
    """`needle` matched literally by ``like``; a backslash matches any one character (see the docstring)."""
    out = []
    for char in needle:
        if char in "%_":
            out.append("\\" + char)
        elif char == "\\":
            out.append("_")
        else:
            out.append(char)
    return "".join(out)


def _literal(text: str) -> str:
    """A double-quoted Milvus string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _list(values: list[str]) -> str:
    return "[" + ", ".join(_literal(value) for value in values) + "]"


def _checked(value: str, what: str) -> str:
    if len(value.encode("utf-8")) > MAX_VARCHAR:
        raise StoreMismatchError(f"{what} is longer than Milvus stores ({MAX_VARCHAR} bytes)")
    return value


_WRITE, _KEPT, _MOVED = "write", "kept", "moved"


def _compared(
    index: StoredIndex, stored: dict[str, dict[str, Any]]
) -> Iterator[tuple[str, list[tuple[int, Passage]], int, str]]:
    """(key, its (row, passage)s, its place in the corpus, _WRITE | _KEPT | _MOVED) for every document of
    `index`, one at a time, against what the store holds: written again unless its metadata and rows are the
    store's; kept as it is, or with only its place in the corpus moved."""
    position = {key: i for i, key in enumerate(index.documents)}
    for key, group in _by_document(index.iter_passages(), index.documents):
        entry = stored.get(key)
        if entry is None or entry["meta"] != asdict(index.documents[key]) or entry["rows"] != [r for r, _ in group]:
            yield key, group, position[key], _WRITE
        else:
            yield key, group, position[key], _KEPT if entry["position"] == position[key] else _MOVED


def _with_collection(target: MilvusTarget) -> str:
    """`target` with a `#name` collection to fill in."""
    return f"{str(target).rsplit('#', 1)[0]}#name"


def _found(hit: Any, score: float) -> Found:
    return Found(int(hit.id), score, str(hit.get("passage_id") or ""))


def _sentences(record: dict[str, Any], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """A stored passage's sentence evidence: spans (k, 2) int64 and float16 vectors (k, dim)."""
    spans = np.asarray(json.loads(record["sentence_spans"]), dtype=np.int64).reshape(-1, 2)
    raw = base64.b64decode(record["sentence_vectors"])
    return spans, np.frombuffer(raw, dtype="<f2").astype(np.float16).reshape(-1, dim)


def writer_of(index: StoredIndex) -> str:
    """The writer an index is: this machine and its index folder."""
    return f"{socket.gethostname()}:{index.path.parent.absolute()}"


def _recorded(stored: dict[str, dict[str, Any]]) -> int:
    """The passages the document records name."""
    return sum(len(entry["rows"]) for entry in stored.values())


def vector_digest(vector: np.ndarray, sentence_vectors: np.ndarray) -> str:
    """A passage's vectors as they are stored (float32 passage, float16 sentences), hashed: recorded at sync
    with each document, checked before a build takes a stored vector (`known_vectors`)."""
    digest = hashlib.sha256(np.asarray(vector, dtype="<f4").tobytes())
    digest.update(np.asarray(sentence_vectors, dtype="<f2").tobytes())
    return digest.hexdigest()[:32]


def _doc_record(meta: DocumentMeta, rows: list[int], position: int, digests: list[str] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"meta": asdict(meta), "rows": rows, "position": position}
    if digests is not None:
        entry["digests"] = digests
    value = json.dumps(entry, ensure_ascii=False)
    return {
        "key": _checked(_DOC + meta.key, f"the key of {meta.key}"),
        "value": _checked(value, f"the record of {meta.key}"),
    }


def _by_document(
    passages: Iterator[tuple[int, Passage]], documents: dict[str, DocumentMeta]
) -> Iterator[tuple[str, list[tuple[int, Passage]]]]:
    """(key, its (row, passage)s) for every document, one at a time (iter_passages groups them), then the
    documents without a passage."""
    seen: set[str] = set()
    group: list[tuple[int, Passage]] = []
    for row, passage in passages:
        if group and passage.doc_key != group[0][1].doc_key:
            seen.add(group[0][1].doc_key)
            yield group[0][1].doc_key, group
            group = []
        group.append((row, passage))
    if group:
        seen.add(group[0][1].doc_key)
        yield group[0][1].doc_key, group
    for key in documents:
        if key not in seen:
            yield key, []


def _parts(values: list[_T], size: int) -> Iterator[list[_T]]:
    for begin in range(0, len(values), size):
        yield values[begin : begin + size]


def _vector(vector: np.ndarray) -> list[float]:
    return [float(x) for x in np.asarray(vector, dtype=np.float32).reshape(-1)]


def _limit(depth: int) -> int:
    return max(1, min(int(depth), MAX_LIMIT))


def _pymilvus() -> Any:
    """pymilvus, imported on first use (and its loggers, which print a traceback per failed call, quieted)."""
    try:
        import pymilvus
    except ImportError as exc:
        raise MissingExtraError("the Milvus store", "milvus", "pymilvus") from exc
    for name in ("pymilvus", "milvus_lite"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return pymilvus


def _error_types(pymilvus: Any) -> tuple[type[BaseException], ...]:
    """What a failed or timed-out call raises: Milvus's errors, gRPC's (a deadline passed), the network's."""
    import grpc

    return (pymilvus.exceptions.MilvusException, grpc.RpcError, OSError)


def _unavailable(target: MilvusTarget, exc: BaseException) -> str:
    if target.local:
        path = Path(target.uri)
        if path.exists() and not path.is_dir():
            return f"{target.uri} is not a Milvus Lite store (it is a file; Milvus Lite keeps a folder)"
        return (
            f"cannot open the Milvus Lite store {target.uri}: another process may hold it (one process per .db;"
            f" run `milvus-lite server` for several), or it cannot be written here ({_first_line(exc)})"
        )
    return f"cannot reach the Milvus server at {target.uri} ({_first_line(exc)})"


def _first_line(exc: BaseException) -> str:
    """The error's own words: a grpc.RpcError's details, a MilvusException's message, else its first line."""
    details = getattr(exc, "details", None)
    message = getattr(exc, "message", None)
    text = details() if callable(details) else message if isinstance(message, str) and message else str(exc)
    lines = str(text).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]


def _vector_dim(description: dict[str, Any]) -> int:
    for field in description.get("fields", []):
        if field.get("name") == "vector":
            return int(field.get("params", {}).get("dim", -1))
    return -1


def _meta_schema(pymilvus: Any, client: Any) -> tuple[Any, Any]:
    """The `<name>_meta` collection: a key, a JSON value, and the vector field every collection needs."""
    DataType = pymilvus.DataType  # noqa: N806 - pymilvus's enum
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=MAX_VARCHAR)
    schema.add_field("value", DataType.VARCHAR, max_length=MAX_VARCHAR)
    schema.add_field("placeholder", DataType.FLOAT_VECTOR, dim=2)
    indexes = client.prepare_index_params()
    indexes.add_index("placeholder", index_type="FLAT", metric_type="IP")
    return schema, indexes
