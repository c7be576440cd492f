"""Sync: mirror one generation into the store incrementally, and say how the store differs from it.

Documents whose key, metadata and rows are already there are kept; gone or changed ones are deleted by
``doc_key in [...]``; new ones are inserted a batch at a time, each document whole, its record written last
(a sync cut short leaves a document unrecorded, so the next one writes it again). What the store holds is
checked against its records first: a passage count that differs from theirs (a lost collection, strays)
rewrites the store whole. A store has one writer, the index folder that last wrote it (`writer_of`); every
write stamps its manifest anew, so a reader can tell that the store changed under it (`MilvusStore.unchanged`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.errors import StoreMismatchError
from qa.records import DocumentMeta, Passage
from qa.storage.generations import StoredIndex
from qa.storage.milvus.entities import (
    BATCH,
    doc_record,
    entity,
    parts,
    recorded,
    sentences_of,
    sound,
    vector_digest,
    writer_of,
)
from qa.storage.milvus.expressions import quoted_list
from qa.storage.milvus.target import with_collection
from qa.text.plural import counted

if TYPE_CHECKING:
    from qa.storage.milvus.store import MilvusStore

NEVER = object()  # a store object that has not synced: no stamp to compare (MilvusStore.unchanged)
FAILED = object()  # a store object whose last sync failed: the store may hold anything


def sync(store: MilvusStore, index: StoredIndex, *, take_over: bool, check_vectors: bool) -> SyncReport:
    """Mirror generation `index` into `store` (see the module's docstring)."""
    began = time.perf_counter()
    store._stamp_seen = FAILED  # until this sync has found or made the store in step
    known = _checked_manifest(store, index)
    with store._calls("sync"):
        stored = store._stored_documents()
        refused = foreign(store, index, stored)
        if refused is not None:
            raise StoreMismatchError(refused)
        owner = (known or {}).get("writer")
        if owner not in (None, writer_of(index)) and not take_over:
            _refuse_a_second_writer(store, index, stored, owner)
            store._stamp_seen = (known or {}).get("stamp")  # another's store, in step with this index: no write
            return SyncReport(0, 0, 0, kept_documents=len(stored), seconds=time.perf_counter() - began)
        stopwords = index.lexical.stopwords
        if known is None:
            store._write_manifest(index, stopwords, 0)  # first: a store never holds passages of no model
        if check_vectors:
            store._damaged.update(damaged_vectors(store))
        held, named = store._count(), recorded(stored)
        if held != named:  # passages lost (a dropped collection) or strays: the records say nothing true
            store._clear()
            stored = {}
        stored = {key: entry for key, entry in stored.items() if key not in store._damaged}
        report = _write(store, index, stored, stopwords)
        rewrite = report.changed or report.moved_documents or known is None or owner != writer_of(index)
        if rewrite or (known or {}).get("generation") != index.path.name:
            store._write_manifest(index, stopwords, index.count)
            store._client.flush(store._meta, timeout=store._timeout)
    store._damaged.clear()
    store._stamp_seen = (store._manifest or {}).get("stamp")
    seconds = time.perf_counter() - began
    return SyncReport(**{**asdict(report), "seconds": seconds, "repaired": (held, named) if held != named else None})


def _checked_manifest(store: MilvusStore, index: StoredIndex) -> dict[str, Any] | None:
    """The store's manifest as it is now (another process may have written it), checked against `index`'s
    model and dimension."""
    model = index.manifest.model
    if model.dim != store.dim:
        raise StoreMismatchError(f"{store.target} holds vectors of dimension {store.dim}, the index {model.dim}")
    with store._calls("read its manifest"):
        store._manifest = known = store._read_manifest()
    if known is not None and (known.get("model") != model.name or int(known.get("dim", -1)) != model.dim):
        raise StoreMismatchError(
            f"{store.target} mirrors an index of model {known.get('model')!r} (dim {known.get('dim')}), not"
            f" {model.name!r} (dim {model.dim}): give this index its own collection (#name) or its own store"
        )
    return known


def _refuse_a_second_writer(store: MilvusStore, index: StoredIndex, stored: dict[str, Any], owner: str) -> None:
    why = out_of_step(store, index, stored)
    if why is not None:
        raise StoreMismatchError(
            f"{store.target} is kept by another index ({owner}) and differs from this one ({why}): a mirror has"
            f" one writer; give this index its own collection ({with_collection(store.target)}), or make it the"
            " writer with `ask.py index update --store ... --take-over`"
        )


def _write(
    store: MilvusStore, index: StoredIndex, stored: dict[str, dict[str, Any]], stopwords: frozenset[str]
) -> SyncReport:
    """Delete the documents gone, write the new and changed ones, move the moved ones' records."""
    gone = [key for key in stored if key not in index.documents]
    store._delete_documents(gone)
    writer = Writer(store, index, stopwords)
    kept, moved = 0, []
    for key, group, position, state in compared(index, stored):
        if state == WRITE:
            writer.add(key, group, position, replaces=key in stored)
            continue
        kept += 1
        if state == MOVED:
            moved.append((key, position))
    writer.finish()
    if moved:
        store._upsert_meta(
            [doc_record(index.documents[k], stored[k]["rows"], p, stored[k].get("digests")) for k, p in moved]
        )
    if gone or writer.documents or moved:
        store._client.flush(store.target.collection, timeout=store._timeout)
    return SyncReport(
        added_documents=writer.documents,
        removed_documents=len(gone) + writer.replaced,
        passages=writer.passages,
        kept_documents=kept,
        moved_documents=len(moved),
    )


def out_of_step(store: MilvusStore, index: StoredIndex, stored: dict[str, dict[str, Any]]) -> str | None:
    """Why the store (its document records `stored`) does not hold generation `index` as a sync would write
    it, or None when it does."""
    held, named = store._count(), recorded(stored)
    if held != named:
        return f"it holds {counted(held, 'passage')} where its records name {named}"
    extra = sum(key not in index.documents for key in stored)
    if extra:
        return f"documents it holds that this index does not: {extra}"
    states = [state for _, _, _, state in compared(index, stored)]
    if states.count(WRITE):
        return f"documents of this index it does not hold as they are: {states.count(WRITE)}"
    return f"documents elsewhere in its corpus order: {states.count(MOVED)}" if MOVED in states else None


def foreign(store: MilvusStore, index: StoredIndex, stored: dict[str, dict[str, Any]]) -> str | None:
    """Why a sync of `index` would be refused, or None. A store that holds documents of another corpus folder,
    fewer than half of them the same (by content) in `index`, mirrors another corpus: syncing would replace
    it. (The same corpus mounted elsewhere shares most documents; another whose files share names does not.)"""
    corpus = (store._manifest or {}).get("corpus")
    if not stored or corpus is None or corpus == index.manifest.corpus.root:
        return None
    documents = index.documents
    shared = sum(
        key in documents and entry["meta"].get("sha256") == documents[key].sha256 for key, entry in stored.items()
    )
    if 2 * shared >= len(stored):
        return None
    return (
        f"{store.target} mirrors another corpus ({corpus}: {len(stored)} documents, {shared} of them the same in"
        f" this index): give this index its own collection ({with_collection(store.target)}) or its own store"
    )


def damaged_vectors(store: MilvusStore) -> dict[str, int]:
    """document key -> how many of its stored passages' vectors are damaged (every vector read)."""
    digests = {
        row: digest
        for entry in store._stored_documents().values()
        for row, digest in zip(entry["rows"], entry.get("digests") or [], strict=False)
    }
    fields = ["row", "doc_key", "vector", "sentence_spans", "sentence_vectors"]
    out: dict[str, int] = {}
    for record in store._scan(store.target.collection, "row >= 0", fields):
        vector = np.asarray(record["vector"], dtype=np.float32)
        if not sound(vector, sentences_of(record, store.dim)[1], digests.get(int(record["row"]))):
            out[record["doc_key"]] = out.get(record["doc_key"], 0) + 1
    return out


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
    moved_documents: int = 0

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


class Writer:
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
            entity(row, passage, index.documents[key], vectors[row], sentences.get(row), self.stopwords, store.dim)
            for key, group, _, _ in self.pending
            for row, passage in group
        ]
        for part in parts(keys, 500):  # a changed document's passages, or those of a sync cut short
            client.delete(store.target.collection, filter=f"doc_key in {quoted_list(part)}", timeout=timeout)
        for batch in parts(entities, BATCH):
            client.insert(store.target.collection, batch, timeout=timeout)
        digests = {e["row"]: vector_digest(e["vector"], sentences_of(e, store.dim)[1]) for e in entities}
        records = [
            doc_record(index.documents[key], [row for row, _ in group], position, [digests[row] for row, _ in group])
            for key, group, position, _ in self.pending
        ]
        store._upsert_meta(records)
        self.documents += len(self.pending)
        self.replaced += sum(replaces for _, _, _, replaces in self.pending)
        self.passages += len(entities)
        self.pending, self.size = [], 0


WRITE, KEPT, MOVED = "write", "kept", "moved"


def compared(
    index: StoredIndex, stored: dict[str, dict[str, Any]]
) -> Iterator[tuple[str, list[tuple[int, Passage]], int, str]]:
    """(key, its (row, passage)s, its place in the corpus, WRITE | KEPT | MOVED) for every document of
    `index`, one at a time, against what the store holds: written again unless its metadata and rows are the
    store's; kept as it is, or with only its place in the corpus moved."""
    position = {key: i for i, key in enumerate(index.documents)}
    for key, group in by_document(index.iter_passages(), index.documents):
        entry = stored.get(key)
        if entry is None or entry["meta"] != asdict(index.documents[key]) or entry["rows"] != [r for r, _ in group]:
            yield key, group, position[key], WRITE
        else:
            yield key, group, position[key], KEPT if entry["position"] == position[key] else MOVED


def by_document(
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
