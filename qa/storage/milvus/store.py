"""The Milvus store: open and close a mirror, read what it holds, search it (vectors, words, both).

See qa/storage/milvus/__init__.py for what the two collections hold; sync lives in qa/storage/milvus/sync.py.
"""

from __future__ import annotations

import importlib.util
import json
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import (
    BadInputError,
    MissingExtraError,
    QAError,
    StoreMismatchError,
    StoreOutOfStepError,
    StoreUnavailableError,
)
from qa.records import DocumentMeta, Passage
from qa.storage.bm25 import bm25_words
from qa.storage.generations import StoredIndex
from qa.storage.milvus import sync
from qa.storage.milvus.entities import (
    BATCH,
    DOC,
    MANIFEST_KEY,
    Found,
    as_list,
    found_of,
    limit_of,
    parts,
    sentences_of,
    sound,
    writer_of,
)
from qa.storage.milvus.expressions import filter_expression, quoted_list
from qa.storage.milvus.schema import (
    FORMAT,
    FORMAT_VERSION,
    checked,
    error_types,
    first_line,
    import_pymilvus,
    meta_schema,
    passage_schema,
    unavailable,
    vector_dim,
)
from qa.storage.milvus.sync import FAILED, NEVER, SyncReport
from qa.storage.milvus.target import META_SUFFIX, MilvusTarget

_PASSAGE_FIELDS = ["passage_id", "doc_key", "start", "end", "line_start", "line_end", "text"]

# Lite holds one process per .db: stores of one path in this process share its embedded server
_LITE_OPEN: dict[str, int] = {}

_LITE_LOCK = threading.Lock()


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
        self._meta = f"{target.collection}{META_SUFFIX}"
        self._manifest: dict[str, Any] | None = None
        self._closed = False
        self._damaged: set[str] = (
            set()
        )  # documents whose stored vectors known_vectors refused: the next sync writes them
        self._stamp_seen: object = NEVER  # the manifest's stamp when this object last found the store in step

    # -- opening ------------------------------------------------------------------------------------------

    @classmethod
    def open(cls, target: MilvusTarget | str, dim: int, *, timeout: float = 10.0) -> MilvusStore:
        """Connect (every call bounded by `timeout` seconds) and create the collections if missing."""
        if isinstance(target, str):
            target = MilvusTarget.parse(target)
        pymilvus = import_pymilvus()
        errors = error_types(pymilvus)
        if target.local:
            if importlib.util.find_spec("milvus_lite") is None:
                raise MissingExtraError("the embedded Milvus store", "milvus", "milvus-lite")
            if not Path(target.uri).parent.is_dir():
                raise StoreUnavailableError(f"cannot open {target}: no folder {Path(target.uri).parent}")
        try:
            client = pymilvus.MilvusClient(uri=target.uri, timeout=timeout)
        except errors as exc:
            raise StoreUnavailableError(unavailable(target, exc)) from exc
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
                schema, indexes = passage_schema(pymilvus, client, self.dim, self.target.local)
                client.create_collection(name, schema=schema, index_params=indexes, timeout=timeout)
            else:
                stored = vector_dim(client.describe_collection(name, timeout=timeout))
                if stored != self.dim:
                    raise StoreMismatchError(
                        f"{self.target} holds vectors of dimension {stored}, not {self.dim}: "
                        "give this index its own collection (#name) or its own store"
                    )
            if not client.has_collection(self._meta, timeout=timeout):
                schema, indexes = meta_schema(pymilvus, client)
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
            raise StoreUnavailableError(f"the Milvus store {self.target} failed to {what}: {first_line(exc)}") from exc

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
        got = self._client.get(self._meta, ids=[MANIFEST_KEY], output_fields=["value"], timeout=self._timeout)
        return json.loads(got[0]["value"]) if got else None

    @property
    def manifest(self) -> dict[str, Any] | None:
        """What the store says of itself (model, dim, generation synced, counts); None before any sync."""
        return self._manifest

    def _stored_documents(self) -> dict[str, dict[str, Any]]:
        """document key -> {"meta", "rows", "position"} as the last sync wrote it."""
        out: dict[str, dict[str, Any]] = {}
        for record in self._scan(self._meta, f'key like "{DOC}%"', ["key", "value"]):
            out[str(record["key"])[len(DOC) :]] = json.loads(record["value"])
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
        self._client.delete(self._meta, filter=f'key like "{DOC}%"', timeout=self._timeout)
        self._client.flush(self.target.collection, timeout=self._timeout)

    # -- sync (qa/storage/milvus/sync.py) ----------------------------------------------------------------

    def sync(self, index: StoredIndex, *, take_over: bool = False, check_vectors: bool = False) -> SyncReport:
        """Mirror generation `index` incrementally (qa/storage/milvus/sync.py): an unchanged generation writes
        nothing; `check_vectors` reads every stored vector first and writes the documents of damaged ones
        again; a sync from an index other than the store's writer that would change it is refused unless
        `take_over`."""
        return sync.sync(self, index, take_over=take_over, check_vectors=check_vectors)

    def in_step(self, index: StoredIndex) -> bool:
        """Whether the store holds generation `index` as a sync would write it (whichever index wrote it): its
        document records are the generation's and it holds as many passages as they name."""
        return self.out_of_step(index) is None

    def out_of_step(self, index: StoredIndex) -> str | None:
        """Why the store does not hold generation `index` as a sync would write it, or None when it does."""
        with self._calls("read the documents"):
            return sync.out_of_step(self, index, self._stored_documents())

    def foreign(self, index: StoredIndex) -> str | None:
        """Why a sync of `index` would be refused (the store mirrors another corpus), or None."""
        with self._calls("read the documents"):
            return sync.foreign(self, index, self._stored_documents())

    def damaged_vectors(self) -> dict[str, int]:
        """document key -> how many of its stored passages' vectors are damaged (not finite, not of unit
        length, or not matching the digest the sync recorded); reads every vector in the store."""
        with self._calls("read every vector"):
            return sync.damaged_vectors(self)

    def unchanged(self) -> None:
        """Raise StoreOutOfStepError when another index has written the store since this one last synced it
        (its manifest's stamp changed); nothing when this store object never synced."""
        if self._stamp_seen is NEVER:
            return
        if self._stamp_seen is FAILED:
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
        self._upsert_meta([{"key": MANIFEST_KEY, "value": checked(json.dumps(manifest), "the manifest")}])
        self._manifest = manifest

    def _upsert_meta(self, records: list[dict[str, Any]]) -> None:
        for part in parts(records, BATCH):
            entities = [{**record, "placeholder": [0.0, 0.0]} for record in part]
            self._client.upsert(self._meta, entities, timeout=self._timeout)

    def _delete_documents(self, keys: list[str]) -> None:
        """Delete these documents' passages and records."""
        for part in parts(keys, 500):
            self._client.delete(self.target.collection, filter=f"doc_key in {quoted_list(part)}", timeout=self._timeout)
            self._client.delete(self._meta, ids=[DOC + key for key in part], timeout=self._timeout)

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
                data=[as_list(vector)],
                anns_field="vector",
                limit=limit_of(depth),
                search_params=self._dense_params(depth),
                filter=filter_expression(source, since, until, rows),
                output_fields=["passage_id"],
                timeout=self._timeout,
            )
        return [found_of(hit, float(hit.distance)) for hit in found[0]]

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
                limit=limit_of(depth),
                search_params={"metric_type": "BM25"},
                filter=filter_expression(source, since, until, rows),
                output_fields=["passage_id"],
                timeout=self._timeout,
            )
        hits = [found_of(hit, abs(float(hit.distance))) for hit in found[0]]  # Lite gives -BM25, a server BM25
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
                data=[as_list(vector)],
                anns_field="vector",
                param=self._dense_params(depth),
                limit=limit_of(depth),
                expr=expr,
            )
        ]
        terms = self._terms(question)
        if terms:
            requests.append(
                AnnSearchRequest(
                    data=[terms], anns_field="sparse", param={"metric_type": "BM25"}, limit=limit_of(depth), expr=expr
                )
            )
        fusion = WeightedRanker(*([0.5] * len(requests))) if ranker == "weighted" else RRFRanker(60)
        with self._calls("search"):
            found = self._client.hybrid_search(
                self.target.collection,
                requests,
                ranker=fusion,
                limit=limit_of(depth),
                output_fields=[],
                timeout=self._timeout,
            )
        return [(int(hit.id), float(hit.distance)) for hit in found[0]]

    def _dense_params(self, depth: int) -> dict[str, Any]:
        if self.target.local:
            return {"metric_type": "IP"}
        return {"metric_type": "IP", "params": {"ef": max(64, limit_of(depth))}}

    def _terms(self, question: str) -> str:
        if self._manifest is None:
            return ""
        return " ".join(bm25_words(question, frozenset(self._manifest["stopwords"])))

    # -- readers ------------------------------------------------------------------------------------------

    def _get(self, rows: Iterable[int], fields: list[str], what: str) -> list[dict[str, Any]]:
        wanted = sorted({int(row) for row in rows})
        out: list[dict[str, Any]] = []
        with self._calls(what):
            for part in parts(wanted, BATCH):
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
        return {int(record["row"]): sentences_of(record, self.dim) for record in records}

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
            for part in parts(keys, 500):
                for record in self._scan(self.target.collection, f"doc_key in {quoted_list(part)}", fields):
                    found[(record["doc_key"], int(record["start"]), int(record["end"]))] = record
                for got in self._client.get(self._meta, ids=[DOC + k for k in part], output_fields=["value"]):
                    entry = json.loads(got["value"])
                    digests.update(zip(entry["rows"], entry.get("digests") or [], strict=False))
        out: list[tuple[int, np.ndarray, np.ndarray] | None] = []
        for passage, passage_spans in zip(passages, spans, strict=True):
            match = found.get((passage.doc_key, passage.start, passage.end))
            if match is None or match["text"] != passage.text:
                out.append(None)
                continue
            stored_spans, sentence_vectors = sentences_of(match, self.dim)
            same = np.array_equal(stored_spans, np.asarray(passage_spans, dtype=np.int64).reshape(-1, 2))
            vector = np.asarray(match["vector"], dtype=np.float32)
            healthy = sound(vector, sentence_vectors, digests.get(int(match["row"])))
            if same and not healthy:
                self._damaged.add(passage.doc_key)  # the next sync writes the document again
            out.append((int(match["row"]), vector, sentence_vectors) if same and healthy else None)
        return out
