"""Keep an index in step with its corpus: build on first use, update on change, reuse what is unchanged."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import faiss
import numpy as np

import qa.storage.generations as store
import qa.storage.vectors as ann
from qa.chunk import ChunkSettings, chunk, make_passage, sentence_spans_of
from qa.embed.reference import Embedder
from qa.errors import EmptyCorpusError, IndexDamagedError
from qa.extract.article import EXTRACTOR_ID, extract_document, with_metadata
from qa.ingest.corpus import Corpus, file_sha256, read_documents, scan
from qa.records import (
    Changes,
    Document,
    DocumentMeta,
    IndexStatus,
    IngestWarning,
    Passage,
    Reporter,
    SilentReporter,
    StoredPassage,
)
from qa.storage.bm25 import LexicalIndex
from qa.storage.database import PassageStore
from qa.storage.generations import StoredIndex

LOCK_TIMEOUT_S = 600.0
EXCLUDED = "excluded.json"  # corpus files removed from this index (ask.py index remove), kept on disk


EMBED_BATCH = 256  # passages embedded (with their sentences) and committed per step: the checkpoint grain


def ensure_index(
    docs: Path,
    index_dir: Path,
    embedder: Embedder,
    settings: ChunkSettings,
    *,
    rebuild: bool = False,
    reporter: Reporter | None = None,
    shown_docs: str | None = None,
    backend: str = "auto",
) -> StoredIndex:
    """Return a loaded index that matches the corpus under `docs`, building or updating it if needed.

    An update re-embeds only documents whose text changed; `backend` picks the bulk encoder for what
    must be embedded ("auto": the fastest one that matches the reference model, qa/bulk.py).
    """
    reporter = reporter or SilentReporter()
    shown_docs = shown_docs or str(docs)
    corpus = scan_corpus(docs, index_dir)
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
        live = None if rebuild or current is None else current.path  # a loadable index: its store seeds the build
        if rebuild:  # start from nothing: no earlier store, no checkpoint of an interrupted build
            store.remove_stale(index_dir, keep=store.live_generation(index_dir))
        return _build(index_dir, corpus, embedder, settings, reporter, shown_docs, live=live, backend=backend)


def scan_corpus(docs: Path, index_dir: Path) -> Corpus:
    """The corpus files under `docs`, less those removed from this index with `ask.py index remove`."""
    corpus = scan(docs, exclude=index_dir)
    excluded = read_excluded(index_dir)
    if not excluded or corpus.kind != "folder":
        return corpus
    return replace(corpus, files=tuple(f for f in corpus.files if f.relpath not in excluded))


def read_excluded(index_dir: Path) -> set[str]:
    try:
        data = json.loads((index_dir / EXCLUDED).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        return set()
    except (OSError, ValueError) as exc:
        raise IndexDamagedError(f"{EXCLUDED} is unreadable ({exc})") from exc
    return {p for p in data if isinstance(p, str)} if isinstance(data, list) else set()


def write_excluded(index_dir: Path, paths: set[str]) -> None:
    """Atomically record the corpus files this index leaves out."""
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = index_dir / f"{EXCLUDED}.tmp"
    tmp.write_text(json.dumps(sorted(paths), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, index_dir / EXCLUDED)


def index_status(docs: Path, index_dir: Path, embedder: Embedder, settings: ChunkSettings) -> IndexStatus:
    """The state of the index of `docs`, without building anything or loading a model."""
    corpus = scan_corpus(docs, index_dir)
    current, reason = _current(index_dir, corpus, embedder, settings)
    changes = Changes()
    if current is not None:
        changes = corpus_changes(corpus, current.manifest, current.files())
    manifest = current.manifest if current is not None else {}
    return IndexStatus(
        index_dir=str(index_dir),
        generation=current.path.name if current is not None else None,
        documents=len(current.documents) if current is not None else 0,
        passages=current.count if current is not None else 0,
        model=manifest.get("model", {}).get("name"),
        backend=manifest.get("model", {}).get("backend"),
        vector_index=manifest.get("vector_index", {}).get("kind"),
        created_at=manifest.get("created_at"),
        pending=reason,
        changes=changes,
        excluded=tuple(sorted(read_excluded(index_dir))),
        checkpoint_documents=store.checkpoint_documents(index_dir, build_key(embedder, settings)),
    )


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
    incompatible = _compatible(current.manifest, embedder, settings)
    if incompatible:
        return current, incompatible
    changes = corpus_changes(corpus, current.manifest, current.files())
    if changes:
        return current, f"the documents changed ({changes.describe()})"
    return current, None


def _compatible(manifest: dict[str, Any], embedder: Embedder, settings: ChunkSettings) -> str | None:
    model = manifest.get("model", {})
    if model.get("name") != embedder.name or model.get("dim") != embedder.dim:
        return f"the model changed ({model.get('name')} -> {embedder.name}), rebuilding"
    if manifest.get("chunking") != settings.to_dict():
        return "the chunk settings changed, rebuilding"
    if manifest.get("extraction", {}).get("fingerprint") != EXTRACTOR_ID:
        return "the article extractor changed, rebuilding"
    if manifest.get("format_version") != store.FORMAT_VERSION:
        return "the index format changed, rebuilding"
    return None


def build_key(embedder: Embedder, settings: ChunkSettings) -> str:
    """What stored vectors and passages depend on: two builds with the same key can share them."""
    parts = [embedder.name, embedder.dim, settings.to_dict(), EXTRACTOR_ID, store.FORMAT_VERSION]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def corpus_changes(corpus: Corpus, manifest: dict[str, Any], files: dict[str, dict[str, Any]]) -> Changes:
    """Compare the files on disk with those the index was built from: stat first, hash only on doubt."""
    known = files if manifest.get("corpus", {}).get("root") == str(corpus.root) else {}
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


@dataclass
class _Pending:
    """Documents read and chunked, waiting to be embedded and committed together."""

    items: list[tuple[Document, int, list[Passage]]] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)  # document key -> document_version (as read)
    passages: int = 0


def _build(
    index_dir: Path,
    corpus: Corpus,
    embedder: Embedder,
    settings: ChunkSettings,
    reporter: Reporter,
    shown_docs: str,
    *,
    live: Path | None,
    backend: str,
) -> StoredIndex:
    """Bring the store up to date document by document, then write the vector and BM25 indexes.

    Documents stream through read -> extract -> chunk -> embed -> commit; each commit is a checkpoint,
    so an interrupted build resumes where it stopped. Unchanged documents keep their rows and vectors.
    """
    key = build_key(embedder, settings)
    seed = live if live is not None and _manifest_of(live).get("build_key") == key else None
    work, st, resumed = store.begin_build(index_dir, key, embedder.dim, seed)
    known = st.document_shas()
    if resumed:
        reporter.info(f"Resuming an interrupted build: {len(known)} documents already embedded")
    # the live vector index is updated in place when this build started from its store
    vectors = _seed_vectors(seed) if seed is not None and not resumed else None
    # a resumed build can still take what the live index holds for documents the checkpoint lacks
    fallback = _live_store(seed) if resumed else None
    fallback_versions = fallback.document_shas() if fallback is not None else {}
    encoder = _LazyBulk(embedder, backend)
    removed_rows: list[int] = []
    positions: dict[str, int] = {}
    file_records: dict[str, dict[str, Any]] = {}
    pending = _Pending()
    embedded = reused = 0

    def flush() -> None:
        nonlocal embedded
        if pending.items:
            embedded += _embed_and_store(st, encoder, pending, vectors, removed_rows, reporter, len(known))
            pending.items.clear()
            pending.versions.clear()
            pending.passages = 0

    try:
        for warning in corpus.skipped:
            reporter.warning(_shown(warning, shown_docs, corpus))
        for done, file in enumerate(corpus.files, start=1):
            docs, warnings = read_documents(corpus, file)
            for warning in warnings:
                reporter.warning(_shown(warning, shown_docs, corpus))
            file_records[file.relpath] = {
                "size": file.size,
                "mtime_ns": file.mtime_ns,
                "sha256": file_sha256(file.abspath),
                "documents": len(docs),
            }
            for doc in docs:
                positions[doc.key] = len(positions)
                version = document_version(doc)
                if known.get(doc.key) == version:
                    reused += 1
                    continue
                if fallback is not None and fallback_versions.get(doc.key) == version:
                    meta = fallback.documents_by_key([doc.key])[doc.key]
                    st.add_document(meta, positions[doc.key], fallback.stored_document(doc.key), version)
                    reused += 1
                    continue
                pending.versions[doc.key] = version
                extraction = extract_document(doc)
                doc = with_metadata(doc, extraction)
                body = list(extraction.body)
                if not body:
                    reporter.warning(f"{_shown_doc(doc, shown_docs, corpus)}: no article text found; indexed as it is")
                    body = [(0, len(doc.text))]
                parts = [make_passage(doc, start, end) for start, end in chunk(doc.text, settings, body)]
                pending.items.append((doc, positions[doc.key], parts))
                pending.passages += len(parts)
                if pending.passages >= EMBED_BATCH:
                    flush()
                    reporter.progress(done, len(corpus.files))
        flush()
        if not positions:  # nothing readable: fail before anything is removed from the checkpoint
            raise EmptyCorpusError(shown_docs)
        gone = [k for k in st.document_shas() if k not in positions]
        removed_rows.extend(st.remove_documents(gone))
        if vectors is not None:
            ann.remove(vectors, removed_rows)
        st.set_positions(positions)
        st.set_files(file_records)
        count, documents = st.count(), st.document_count()
        if not documents:
            raise EmptyCorpusError(shown_docs)
        spec = ann.choose(count)
        if vectors is None or ann.AnnSpec.from_dict(_manifest_of(seed).get("vector_index", {})) != spec:
            reporter.info(f"Building the vector index ({spec.kind}, {count} passages) ...")
            vectors = _vectors_from_store(st, spec)
        lexical = _lexical_from_store(st)
    except BaseException:
        st.close()  # the work folder stays: committed documents are the checkpoint the next build resumes
        raise
    finally:
        if fallback is not None:
            fallback.close()
    previous = _manifest_of(live) if live is not None else {}
    manifest = {
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "model": {
            "name": embedder.name,
            "dim": embedder.dim,
            "normalized": True,
            "metric": "inner_product",
            # every backend's vectors are within cosine 0.999 of the reference (tests/test_backends.py)
            "backend": encoder.name or previous.get("model", {}).get("backend", "none"),
        },
        "chunking": settings.to_dict(),
        "extraction": {"fingerprint": EXTRACTOR_ID},
        "corpus": {"kind": corpus.kind, "root": str(corpus.root)},
        "counts": {"documents": documents, "passages": count},
        "vector_index": spec.to_dict(),
        "build_key": key,
        "last_build": {"embedded_passages": embedded, "reused_documents": reused, "resumed": resumed},
        "versions": _versions(),
    }
    store.finish_build(index_dir, work, st, manifest, vectors, lexical)
    loaded = store.read_index(index_dir)
    assert loaded is not None
    reporter.info(f"Index ready: {documents} documents, {count} passages in {index_dir}")
    return loaded


class _LazyBulk:
    """The bulk encoder, created on first use: an update with nothing new to embed never loads a model."""

    def __init__(self, embedder: Embedder, backend: str) -> None:
        self._embedder = embedder
        self._backend = backend
        self._bulk: Embedder | None = None
        self.name: str | None = None

    def embed(self, texts: list[str]) -> np.ndarray:
        if self._bulk is None:
            from qa.embed.bulk import bulk_embedder  # imports a runtime (OpenVINO, torch) only when a build embeds

            self._bulk = bulk_embedder(self._embedder, self._backend)
            self.name = getattr(self._bulk, "backend", "reference")
        return self._bulk.embed(texts)


def _embed_and_store(
    st: PassageStore,
    encoder: _LazyBulk,
    pending: _Pending,
    vectors: faiss.Index | None,
    removed_rows: list[int],
    reporter: Reporter,
    already: int,
) -> int:
    """Embed the pending documents' passages and sentences, then commit them one document at a time."""
    spans = [[sentence_spans_of(p) for p in parts] for _, _, parts in pending.items]
    texts = [p.text for _, _, parts in pending.items for p in parts]
    texts += [
        _slice(p, s, e)
        for (_, _, parts), doc_spans in zip(pending.items, spans, strict=True)
        for p, ps in zip(parts, doc_spans, strict=True)
        for s, e in ps
    ]
    if encoder.name is None:
        reporter.info(
            "Embedding new and changed documents"
            + (f" ({already} documents already in the index)" if already else "")
            + " ..."
        )
    fresh = encoder.embed(texts)
    cursor_p, cursor_s = 0, sum(len(parts) for _, _, parts in pending.items)
    for (doc, position, parts), doc_spans in zip(pending.items, spans, strict=True):
        stored = []
        for passage, ps in zip(parts, doc_spans, strict=True):
            stored.append(
                StoredPassage(
                    passage,
                    fresh[cursor_p],
                    np.asarray(ps, dtype=np.int64).reshape(-1, 2),
                    fresh[cursor_s : cursor_s + len(ps)],
                )
            )
            cursor_p += 1
            cursor_s += len(ps)
        rows, gone = st.add_document(_meta(doc), position, stored, pending.versions[doc.key])
        removed_rows.extend(gone)
        if vectors is not None:
            ann.remove(vectors, gone)
            if stored:
                ann.add(vectors, np.array(rows, dtype=np.int64), np.vstack([s.vector for s in stored]))
    return len(texts)


def _live_store(seed: Path | None) -> PassageStore | None:
    if seed is None:
        return None
    try:
        return PassageStore(seed / store.STORE)
    except Exception:  # noqa: BLE001 - unreadable: the resumed build embeds what it lacks
        return None


def _seed_vectors(seed: Path) -> faiss.Index | None:
    try:
        return ann.read(str(seed / store.VECTORS))
    except RuntimeError:
        return None


def _vectors_from_store(st: PassageStore, spec: ann.AnnSpec) -> faiss.Index:
    train = np.zeros((0, st.dim), np.float32)
    wanted = ann.training_size(spec)
    if wanted:
        rows = st.all_rows()
        sample = np.random.default_rng(0).choice(rows, size=min(wanted, len(rows)), replace=False)
        found = st.vectors(sample.tolist())
        train = np.vstack([found[int(r)] for r in sample])
    return ann.build(spec, st.dim, st.iter_rows("vector"), train)


def _lexical_from_store(st: PassageStore) -> LexicalIndex:
    rows, texts = [], []
    for batch_rows, batch_texts in st.iter_rows("text"):
        rows.append(batch_rows)
        texts.extend(batch_texts)
    return LexicalIndex.build(texts, np.concatenate(rows) if rows else np.zeros(0, np.int64))


def _manifest_of(gen: Path | None) -> dict[str, Any]:
    if gen is None:
        return {}
    try:
        manifest = json.loads((gen / store.MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def document_version(doc: Document) -> str:
    """What makes a stored document current: its text and the metadata it brings (a .jsonl record's or
    an HTML page's title, date, byline...), so an edit of either is picked up. Taken before extraction."""
    fields = [doc.sha256, doc.path, doc.source_id, doc.title, doc.publisher, doc.published, doc.url, doc.byline]
    return hashlib.sha256(json.dumps([*fields, doc.encoding], ensure_ascii=False).encode()).hexdigest()


def _meta(d: Document) -> DocumentMeta:
    return DocumentMeta(
        d.key, d.path, d.source_id, d.sha256, d.title, d.publisher, d.published, d.url, d.encoding, d.byline
    )


def _slice(passage: Passage, start: int, end: int) -> str:
    return passage.text[start - passage.start : end - passage.start]


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
