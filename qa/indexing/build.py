"""Keep an index in step with its corpus: build on first use, update on change, reuse what is unchanged.

A build plans document by document (read, compare versions, extract, chunk), embeds in batches that are
committed as checkpoints, then finalizes: vector and BM25 indexes, manifest, the switch to a new generation.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import faiss

import qa.storage.generations as generations
import qa.storage.vectors as ann
from qa.embed.lazy import LazyEncoder
from qa.embed.texts import sentence_method
from qa.errors import EmptyCorpusError
from qa.extract.version import EXTRACTOR_ID
from qa.indexing.batch import EmbedBatch, KnownVectors, SpanEncoder, embed_and_store
from qa.indexing.changes import build_key, current_index, scan_corpus
from qa.records import ChunkSettings, Corpus, Embedder, Reporter, SilentReporter
from qa.storage.bm25 import LexicalIndex
from qa.storage.database import PassageDatabase
from qa.storage.generations import StoredIndex
from qa.storage.manifest import CorpusInfo, Counts, LastBuild, Manifest, ModelInfo
from qa.text.plural import counted

if TYPE_CHECKING:
    from qa.embed.runtimes.ray_embedder import RaySettings
    from qa.indexing.planner import Reuse

# A question on a built index only runs ensure_index's check: what builds (the reader and its extractor,
# the final BM25 and versions) is imported by the build itself, where marked "build only".

__all__ = ["EMBED_BATCH", "RAY_EMBED_BATCH", "ensure_index"]

LOCK_TIMEOUT_S = 600.0
EMBED_BATCH = 256  # passages embedded (with their sentences) and committed per step: the checkpoint grain
RESTORED_BACKEND = "restored"  # the backend a build records when it took every vector from the mirror
RAY_EMBED_BATCH = 2048  # ... on Ray: enough to keep tens of actors busy (sub-batches of 8-64) per round trip


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
    ray: RaySettings | None = None,
    known: KnownVectors | None = None,
) -> StoredIndex:
    """Return a loaded index that matches the corpus under `docs`, building or updating it if needed.

    An update re-embeds only documents whose text changed; `backend` picks the bulk encoder for what
    must be embedded ("auto": the fastest one that matches the reference model, qa/embed/bulk.py). With
    `ray`, that is embedded by Ray actors, one such encoder each (qa/embed/runtimes/ray_embedder.py): a local Ray or
    a cluster, started only when something must be embedded. Passages whose vectors `known` holds (a Milvus
    mirror of this corpus's index, qa/storage/milvus/) take them rather than being embedded again.
    """
    reporter = reporter or SilentReporter()
    shown_docs = shown_docs or str(docs)
    corpus = scan_corpus(docs, index_dir)
    if not corpus.files:
        raise EmptyCorpusError(shown_docs)
    if not rebuild:
        current, reason = current_index(index_dir, corpus, embedder, settings)
        if current is not None and reason is None:
            return current
    with generations.build_lock(
        index_dir, LOCK_TIMEOUT_S, on_wait=lambda: reporter.info(f"Waiting for another build of {index_dir} ...")
    ):
        # another process may have finished the same build while we waited for the lock
        current, reason = current_index(index_dir, corpus, embedder, settings)
        if current is not None and reason is None and not rebuild:
            return current
        if rebuild:
            reason = "rebuild requested"
        if ray is not None:
            ray.check()  # Ray installed, the cluster answering: before anything is planned
        reporter.info(f"Indexing {shown_docs}: {reason} ...")
        if rebuild:  # start from nothing: no earlier database, no checkpoint of an interrupted build
            generations.remove_stale(index_dir, keep=generations.live_generation(index_dir))
        known = None if rebuild else known  # a rebuild embeds everything again
        request = BuildRequest(index_dir, corpus, embedder, settings, reporter, shown_docs, backend, ray, known)
        return _build(request, live=None if rebuild else current)  # a loadable index seeds the build


@dataclass(frozen=True)
class BuildRequest:
    """What to build: the index of `corpus` in `index_dir` with this model and these settings."""

    index_dir: Path
    corpus: Corpus
    embedder: Embedder
    settings: ChunkSettings
    reporter: Reporter
    shown_docs: str  # the corpus as the user named it, for messages
    backend: str  # the bulk encoder asked for ("auto" or one of qa.embed.bulk.BACKENDS)
    ray: RaySettings | None = (
        None  # embed on Ray actors (qa/embed/runtimes/ray_embedder.py) rather than in this process
    )
    known: KnownVectors | None = None  # vectors made before for the same passages, taken rather than embedded


@dataclass
class _Build:
    """A build in progress: the database it fills, what that already holds, and what was done so far."""

    request: BuildRequest
    key: str
    work: Path
    database: PassageDatabase
    resumed: bool
    known: dict[str, str]  # document key -> version already in the database
    vectors: faiss.Index | None  # the live vector index, updated in place when the database was seeded from it
    seed_spec: ann.AnnSpec | None  # the kind of that vector index
    fallback: PassageDatabase | None  # a resumed build takes what the live index holds for documents it lacks
    fallback_versions: dict[str, str]
    encoder: SpanEncoder
    positions: dict[str, int] = field(default_factory=dict)  # document key -> place in the corpus
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # corpus file -> size, mtime_ns, sha256, documents
    embedded: int = 0
    restored: int = 0  # passages whose vectors `known` held
    announced: bool = False  # "Embedding ..." said and the progress bar shown
    reused: int = 0
    new_passages: int = 0  # passages embedded by this build, and the seconds that took (with their storing)
    embed_seconds: float = 0.0


@dataclass(frozen=True)
class _Indexes:
    vectors: faiss.Index
    lexical: LexicalIndex
    spec: ann.AnnSpec
    counts: Counts


def _build(request: BuildRequest, live: StoredIndex | None) -> StoredIndex:
    """Bring the database up to date document by document, then write the vector and BM25 indexes.

    Documents stream through read -> extract -> chunk -> embed -> commit; each commit is a checkpoint,
    so an interrupted build resumes where it stopped. Unchanged documents keep their rows and vectors.
    """
    build = _start(request, live)
    try:
        _plan_and_embed(build)
        build.encoder.close()  # Ray's actors are not needed for the indexes: their memory is freed first
        indexes = _finalize(build)
    except BaseException:
        build.database.close()  # the work folder stays: committed documents are the checkpoint the next build resumes
        raise
    finally:
        build.encoder.close()
        if build.fallback is not None:
            build.fallback.close()
    manifest = _manifest(build, indexes, live)
    generations.finish_build(build.work, build.database, manifest, indexes.vectors, indexes.lexical)
    loaded = generations.read_index(request.index_dir)
    assert loaded is not None
    counts = indexes.counts
    held = f"{counted(counts.documents, 'document')}, {counted(counts.passages, 'passage')}"
    request.reporter.info(f"Index ready: {held} in {request.index_dir}")
    return loaded


def _start(request: BuildRequest, live: StoredIndex | None) -> _Build:
    """Open the build's database: a checkpoint to resume, a copy of the live one when compatible, or empty."""
    key = build_key(request.embedder, request.settings)
    seed = live if live is not None and live.manifest.build_key == key else None
    seed_path = seed.path if seed is not None else None
    work, database, resumed = generations.begin_build(request.index_dir, key, request.embedder.dim, seed_path)
    known = database.document_shas()
    if resumed:
        request.reporter.info(f"Resuming an interrupted build: {len(known)} documents already embedded")
    fallback = _open_database(seed_path) if resumed else None
    return _Build(
        request=request,
        key=key,
        work=work,
        database=database,
        resumed=resumed,
        known=known,
        vectors=_read_vectors(seed_path) if seed_path is not None and not resumed else None,
        seed_spec=seed.manifest.vector_index if seed is not None else None,
        fallback=fallback,
        fallback_versions=fallback.document_shas() if fallback is not None else {},
        encoder=_encoder(request),
    )


def _encoder(request: BuildRequest) -> SpanEncoder:
    if request.ray is None:
        return LazyEncoder(request.embedder, request.backend, request.reporter)
    from qa.embed.runtimes.ray_embedder import EncoderSpec, RayEncoders  # build only

    return RayEncoders(EncoderSpec.from_embedder(request.embedder, request.backend), request.ray, request.reporter)


def _plan_and_embed(build: _Build) -> None:
    """Embed and commit, a batch at a time, what the reading thread plans from the corpus files."""
    from qa.indexing.planner import Planner  # build only

    request = build.request
    total = len(request.corpus.files)
    batch = EMBED_BATCH if request.ray is None else RAY_EMBED_BATCH
    with Planner(request, build.known, build.fallback_versions, batch) as planner:
        for planned in planner:
            for message in planned.warnings:
                request.reporter.warning(message)
            for reuse in planned.reuse:
                _copy_from_fallback(build, reuse)
            if planned.batch.documents:
                _embed_batch(build, planned.batch, planned.files_done)
            if planned.batch.documents or (planned.files_done == total and build.announced):
                request.reporter.progress(planned.files_done, total)  # the last hand-over ends a bar full
    build.positions, build.files, build.reused = planner.plan.positions, planner.plan.files, planner.plan.reused


def _copy_from_fallback(build: _Build, reuse: Reuse) -> None:
    """Store a document as the live index holds it (a resumed build that lacks it, at the same version)."""
    assert build.fallback is not None
    meta = build.fallback.documents_by_key([reuse.key])[reuse.key]
    build.database.add_document(meta, reuse.position, build.fallback.stored_document(reuse.key), reuse.version)


def _embed_batch(build: _Build, batch: EmbedBatch, files_done: int) -> None:
    """Embed and commit a batch of documents: one checkpoint more."""
    request = build.request
    if not build.announced:
        build.announced = True
        already = f" ({len(build.known)} documents already in the index)" if build.known else ""
        mirrored = ", taking the vectors Milvus holds for unchanged passages" if request.known is not None else ""
        request.reporter.info(f"Embedding new and changed documents{already}{mirrored} ...")
        if request.known is None:  # with known vectors a model may not be needed at all: it loads when it is
            build.encoder.prepare()  # a first build on this CPU converts and measures the model: before the bar
        # the bar at once, from the files before this batch's (a rate from the batch's last file alone misleads)
        first = max(files_done - len({pending.doc.path for pending in batch.documents}), 0)
        request.reporter.progress(first, len(request.corpus.files))
    began = time.perf_counter()
    model = (request.embedder.name, sentence_method(request.embedder))
    embedded, restored = embed_and_store(batch, build.encoder, build.database, build.vectors, request.known, model)
    build.embed_seconds += time.perf_counter() - began
    build.new_passages += batch.passages - restored
    build.embedded += embedded
    build.restored += restored


def _finalize(build: _Build) -> _Indexes:
    """Drop documents no longer in the corpus, record the corpus order and files, build the search indexes."""
    from qa.indexing.finalize import lexical_from_database, vectors_from_database  # build only

    request, database = build.request, build.database
    if not build.positions:  # nothing readable: fail before anything is removed from the checkpoint
        raise EmptyCorpusError(request.shown_docs)
    gone = [key for key in database.document_shas() if key not in build.positions]
    removed = database.remove_documents(gone)
    if build.vectors is not None:  # (replaced versions' rows left it as each new version was stored)
        ann.remove(build.vectors, removed)
    database.set_positions(build.positions)
    database.set_files(build.files)
    counts = Counts(documents=database.document_count(), passages=database.count())
    if not counts.documents:
        raise EmptyCorpusError(request.shown_docs)
    spec = ann.choose(counts.passages)
    vectors = build.vectors
    if vectors is None or build.seed_spec != spec:
        request.reporter.info(f"Building the vector index ({spec.kind}, {counts.passages} passages) ...")
        vectors = vectors_from_database(database, spec)
    return _Indexes(vectors, lexical_from_database(database, build.work / generations.LEXICAL), spec, counts)


def _manifest(build: _Build, indexes: _Indexes, live: StoredIndex | None) -> Manifest:
    from qa.indexing.finalize import library_versions  # build only

    request = build.request
    # an update that embedded nothing keeps the backend that embedded what it holds
    earlier_backend = live.manifest.model.backend if live is not None else "none"
    if build.restored and build.encoder.name is None:  # every new passage's vectors came from the mirror
        earlier_backend = RESTORED_BACKEND
    return Manifest(
        created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        model=ModelInfo(
            name=request.embedder.name,
            dim=request.embedder.dim,
            backend=build.encoder.name or earlier_backend,
            sentences=sentence_method(request.embedder),
        ),
        chunking=request.settings.to_dict(),
        extractor=EXTRACTOR_ID,
        corpus=CorpusInfo(kind=request.corpus.kind, root=str(request.corpus.root)),
        counts=indexes.counts,
        vector_index=indexes.spec,
        build_key=build.key,
        last_build=LastBuild(
            embedded_passages=build.embedded,
            reused_documents=build.reused,
            resumed=build.resumed,
            passages_per_second=build.new_passages / build.embed_seconds if build.embed_seconds > 0 else 0.0,
            ray_workers=getattr(build.encoder, "workers", 0),
            restored_passages=build.restored,
        ),
        versions=library_versions(),
    )


def _open_database(seed: Path | None) -> PassageDatabase | None:
    if seed is None:
        return None
    try:
        return PassageDatabase(seed / generations.STORE)
    except Exception:  # noqa: BLE001 - unreadable: the resumed build embeds what it lacks
        return None


def _read_vectors(seed: Path) -> faiss.Index | None:
    try:
        return ann.read(str(seed / generations.VECTORS))
    except RuntimeError:
        return None
