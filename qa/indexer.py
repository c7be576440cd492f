"""Keep an index in step with its corpus: build on first use, update on change, reuse what is unchanged."""

from __future__ import annotations

import datetime as dt
import hashlib
import platform
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from . import store
from .chunk import ChunkSettings, chunk
from .duplicates import sentence_spans_of
from .embed import Embedder
from .errors import EmptyCorpusError, IndexDamagedError
from .extract import FINGERPRINT, Extraction, extract_document
from .ingest import Corpus, file_sha256, read_documents, scan
from .lexical import LexicalIndex
from .records import Document, IngestWarning, Passage
from .store import DocumentMeta, StoredIndex

LOCK_TIMEOUT_S = 600.0


class Reporter(Protocol):
    """Where the library sends what a user may want to see; the fronts decide how to show it."""

    def info(self, message: str) -> None: ...

    def warning(self, message: str) -> None: ...

    def progress(self, done: int, total: int) -> None: ...


class SilentReporter:
    def info(self, message: str) -> None:
        pass

    def warning(self, message: str) -> None:
        pass

    def progress(self, done: int, total: int) -> None:
        pass


@dataclass(frozen=True)
class Changes:
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def describe(self) -> str:
        return f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed"


def ensure_index(
    docs: Path,
    index_dir: Path,
    embedder: Embedder,
    settings: ChunkSettings,
    *,
    rebuild: bool = False,
    reporter: Reporter | None = None,
    shown_docs: str | None = None,
) -> StoredIndex:
    """Return a loaded index that matches the corpus under `docs`, building or updating it if needed."""
    reporter = reporter or SilentReporter()
    shown_docs = shown_docs or str(docs)
    corpus = scan(docs, exclude=index_dir)
    if not corpus.files:
        raise EmptyCorpusError(shown_docs)
    if not rebuild:
        current, reason = _current(index_dir, corpus, embedder, settings)
        if current is not None and reason is None:
            return current
    with store.build_lock(
        index_dir, LOCK_TIMEOUT_S, on_wait=lambda: reporter.info(f"Waiting for another build of {index_dir} ...")
    ):
        # another process may have finished the same build while we waited for the lock
        current, reason = _current(index_dir, corpus, embedder, settings)
        if current is not None and reason is None and not rebuild:
            return current
        if rebuild:
            reason = "rebuild requested"
        reporter.info(f"Indexing {shown_docs}: {reason} ...")
        reusable = None
        if current is not None and not rebuild and _compatible(current, embedder, settings) is None:
            reusable = current
        return _build(index_dir, corpus, embedder, settings, reusable, reporter, shown_docs)


def _current(
    index_dir: Path, corpus: Corpus, embedder: Embedder, settings: ChunkSettings
) -> tuple[StoredIndex | None, str | None]:
    """The live index and why it cannot serve this corpus as it is (None when it can)."""
    try:
        current = store.read_index(index_dir)
    except IndexDamagedError as exc:
        return None, f"the existing index is unusable ({exc}), rebuilding it"
    if current is None:
        return None, "first build"
    incompatible = _compatible(current, embedder, settings)
    if incompatible:
        return current, incompatible
    changes = corpus_changes(corpus, current.manifest)
    if changes:
        return current, f"the documents changed ({changes.describe()})"
    return current, None


def _compatible(current: StoredIndex, embedder: Embedder, settings: ChunkSettings) -> str | None:
    model = current.manifest.get("model", {})
    if model.get("name") != embedder.name or model.get("dim") != embedder.dim:
        return f"the model changed ({model.get('name')} -> {embedder.name}), rebuilding"
    if current.manifest.get("chunking") != settings.to_dict():
        return "the chunk settings changed, rebuilding"
    if current.manifest.get("extraction", {}).get("fingerprint") != FINGERPRINT:
        return "the article extractor changed, rebuilding"
    if current.manifest.get("format_version") != store.FORMAT_VERSION:
        return "the index format changed, rebuilding"
    return None


def corpus_changes(corpus: Corpus, manifest: dict[str, Any]) -> Changes:
    """Compare the files on disk with those the index was built from: stat first, hash only on doubt."""
    recorded = manifest.get("corpus", {})
    known: dict[str, dict[str, Any]] = recorded.get("files", {}) if recorded.get("root") == str(corpus.root) else {}
    added, changed = [], []
    for file in corpus.files:
        entry = known.get(file.relpath)
        if entry is None:
            added.append(file.relpath)
        elif (entry.get("size"), entry.get("mtime_ns")) != (file.size, file.mtime_ns):
            if entry.get("size") != file.size or entry.get("sha256") != file_sha256(file.abspath):
                changed.append(file.relpath)
    present = {f.relpath for f in corpus.files}
    removed = [path for path in known if path not in present]
    return Changes(tuple(added), tuple(changed), tuple(removed))


def _build(
    index_dir: Path,
    corpus: Corpus,
    embedder: Embedder,
    settings: ChunkSettings,
    previous: StoredIndex | None,
    reporter: Reporter,
    shown_docs: str,
) -> StoredIndex:
    documents: list[Document] = []
    file_records: dict[str, dict[str, Any]] = {}
    for warning in corpus.skipped:
        reporter.warning(_shown(warning, shown_docs, corpus))
    for file in corpus.files:
        docs, warnings = read_documents(corpus, file)
        for warning in warnings:
            reporter.warning(_shown(warning, shown_docs, corpus))
        documents.extend(docs)
        file_records[file.relpath] = {
            "size": file.size,
            "mtime_ns": file.mtime_ns,
            "sha256": file_sha256(file.abspath),
            "documents": len(docs),
        }
    if not documents:
        raise EmptyCorpusError(shown_docs)

    reuse = _reusable(previous)
    passages: list[Passage] = []
    vectors: list[np.ndarray | None] = []
    sentences: list[_Sentences | None] = []  # per passage: raw spans and vectors of its sentences
    to_embed: list[int] = []  # positions in `passages` that need vectors
    for position, doc in enumerate(documents):
        extraction = extract_document(doc)
        doc = documents[position] = with_metadata(doc, extraction)
        old = reuse.get((doc.key, doc.sha256))
        if old is not None:
            for passage, vector, sentence_parts in old:
                passages.append(passage)
                vectors.append(vector)
                sentences.append(sentence_parts)
            continue
        body = list(extraction.body)
        if not body:
            reporter.warning(f"{_shown_doc(doc, shown_docs, corpus)}: no article text found; indexed as it is")
            body = [(0, len(doc.text))]
        for start, end in chunk(doc.text, settings, body):
            to_embed.append(len(passages))
            passages.append(make_passage(doc, start, end))
            vectors.append(None)
            sentences.append(None)
    if to_embed:
        reused = len(passages) - len(to_embed)
        spans = {i: sentence_spans_of(passages[i]) for i in to_embed}
        texts = [passages[i].text for i in to_embed]
        sentence_texts = [_slice(passages[i], s, e) for i in to_embed for s, e in spans[i]]
        reporter.info(
            f"Embedding {len(to_embed)} passages and {len(sentence_texts)} sentences from {len(documents)} documents"
            + (f" ({reused} passages reused)" if reused else "")
        )
        fresh = embedder.embed(texts + sentence_texts, progress=reporter.progress)
        cursor = len(texts)
        for row, i in enumerate(to_embed):
            vectors[i] = fresh[row]
            count = len(spans[i])
            sentences[i] = (np.asarray(spans[i], dtype=np.int64).reshape(-1, 2), fresh[cursor : cursor + count])
            cursor += count
    matrix = np.vstack(vectors).astype(np.float32) if vectors else np.zeros((0, embedder.dim), np.float32)
    sentence_table, sentence_matrix = _sentence_table(sentences, embedder.dim)

    manifest = {
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "model": {"name": embedder.name, "dim": embedder.dim, "normalized": True, "metric": "inner_product"},
        "chunking": settings.to_dict(),
        "extraction": {"fingerprint": FINGERPRINT},
        "corpus": {"kind": corpus.kind, "root": str(corpus.root), "files": file_records},
        "documents": {doc.key: doc.sha256 for doc in documents},
        "versions": _versions(),
    }
    metas = [
        DocumentMeta(
            d.key, d.path, d.source_id, d.sha256, d.title, d.publisher, d.published, d.url, d.encoding, d.byline
        )
        for d in documents
    ]
    lexical = LexicalIndex.build([p.text for p in passages])
    store.write_index(index_dir, manifest, metas, passages, matrix, lexical, sentence_table, sentence_matrix)
    loaded = store.read_index(index_dir)
    assert loaded is not None
    reporter.info(f"Index ready: {len(documents)} documents, {len(passages)} passages in {index_dir}")
    return loaded


def with_metadata(doc: Document, extraction: Extraction) -> Document:
    """Fill the fields a .jsonl record left empty from what the page says of itself; given fields win."""
    return replace(
        doc,
        title=doc.title or extraction.title,
        publisher=doc.publisher or extraction.publisher,
        published=doc.published or extraction.published,
        byline=doc.byline or extraction.byline,
    )


def make_passage(doc: Document, start: int, end: int) -> Passage:
    text = doc.text[start:end]
    line_start = doc.text.count("\n", 0, start) + 1
    line_end = line_start + text.count("\n")
    ident = hashlib.sha1(f"{doc.key}\0{doc.sha256}\0{start}\0{end}".encode()).hexdigest()[:16]
    return Passage(ident, doc.key, start, end, line_start, line_end, text)


_Sentences = tuple[np.ndarray, np.ndarray]  # (k, 2) raw spans, (k, dim) vectors


def _slice(passage: Passage, start: int, end: int) -> str:
    return passage.text[start - passage.start : end - passage.start]


def _sentence_table(per_passage: list[_Sentences | None], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The index's sentence table: (passage row, start, end) rows and their vectors, in passage order."""
    rows, spans, vectors = [], [], []
    for row, parts in enumerate(per_passage):
        assert parts is not None
        rows.append(np.full(len(parts[0]), row, dtype=np.int64))
        spans.append(parts[0])
        vectors.append(np.asarray(parts[1], dtype=np.float32))
    if not rows:
        return np.zeros((0, 3), np.int64), np.zeros((0, dim), np.float32)
    table = np.column_stack([np.concatenate(rows), np.concatenate(spans).reshape(-1, 2)])
    return table.astype(np.int64), np.concatenate(vectors).reshape(-1, dim)


def _reusable(previous: StoredIndex | None) -> dict[tuple[str, str], list[tuple[Passage, np.ndarray, _Sentences]]]:
    """Passages, vectors and sentence vectors of the previous build, by (document key, text hash)."""
    if previous is None or not previous.passages:
        return {}
    rows = previous.vector_rows()
    out: dict[tuple[str, str], list[tuple[Passage, np.ndarray, _Sentences]]] = {}
    for row, passage in enumerate(previous.passages):
        meta = previous.documents.get(passage.doc_key)
        if meta is not None:
            spans, vectors = previous.sentences_of(row)
            parts = (np.array(spans), np.asarray(vectors, dtype=np.float32))
            out.setdefault((meta.key, meta.sha256), []).append((passage, rows[row], parts))
    return out


def _shown_doc(doc: Document, shown_docs: str, corpus: Corpus) -> str:
    if corpus.kind == "folder":
        return str(Path(shown_docs) / doc.path)
    return f"{shown_docs}#{doc.source_id}" if doc.source_id else shown_docs


def _shown(warning: IngestWarning, shown_docs: str, corpus: Corpus) -> str:
    if corpus.kind == "folder":
        return f"{Path(shown_docs) / warning.path}: {warning.message}"
    return f"{shown_docs}{warning.path[len(corpus.root.name) :]}: {warning.message}"


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for dist in ("newsqa", "faiss-cpu", "numpy", "sentence-transformers", "torch"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return versions
