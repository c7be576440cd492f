"""How an index stands against its corpus, without building anything or loading a model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import qa.storage.generations as generations
from qa.errors import IndexDamagedError, NoIndexError
from qa.indexing.changes import build_key, corpus_changes, current_index, read_excluded, scan_corpus
from qa.records import Changes, ChunkSettings, Embedder, IndexStatus


def index_status(docs: Path, index_dir: Path, embedder: Embedder, settings: ChunkSettings) -> IndexStatus:
    """The state of the index of `docs`, without building anything or loading a model."""
    corpus = scan_corpus(docs, index_dir)
    current, reason = current_index(index_dir, corpus, embedder, settings)
    checkpoint = generations.checkpoint_documents(index_dir, build_key(embedder, settings))
    excluded = tuple(sorted(read_excluded(index_dir)))
    if current is None:
        return IndexStatus(
            index_dir=str(index_dir),
            generation=None,
            documents=0,
            passages=0,
            model=None,
            backend=None,
            vector_index=None,
            created_at=None,
            pending=reason,
            changes=Changes(),
            excluded=excluded,
            checkpoint_documents=checkpoint,
        )
    manifest = current.manifest
    return IndexStatus(
        index_dir=str(index_dir),
        generation=current.path.name,
        documents=len(current.documents),
        passages=current.count,
        model=manifest.model.name,
        backend=manifest.model.backend,
        vector_index=manifest.vector_index.kind,
        created_at=manifest.created_at,
        pending=reason,
        changes=corpus_changes(corpus, manifest, current.files()),
        excluded=excluded,
        checkpoint_documents=checkpoint,
        passages_per_second=manifest.last_build.passages_per_second,
        ray_workers=manifest.last_build.ray_workers,
    )


def verify_index(index_dir: Path) -> Verification:
    """Check every byte of the live generation against the checksums of its build, and the database's
    integrity. Raises IndexDamagedError naming what differs, after marking the generation damaged so that
    the next use rebuilds it; NoIndexError when there is no index; returns the status of a sound one."""
    name = generations.live_generation(index_dir)
    if name is None and not (index_dir / generations.CURRENT).exists():
        raise NoIndexError(f"no index in {index_dir} yet (the first question builds it)")
    if name is None or not (index_dir / name).is_dir():
        raise IndexDamagedError(
            f"the index in {index_dir} is damaged: {generations.CURRENT} names no build of this tool;"
            " the next use rebuilds it"
        )
    try:
        stored = generations.read_index(index_dir, full=True)
    except IndexDamagedError as exc:
        raise generations.damaged(index_dir / name, str(exc)) from None
    assert stored is not None
    manifest = stored.manifest
    stored.close()
    return Verification(
        manifest.checksums != {},
        IndexStatus(
            index_dir=str(index_dir),
            generation=name,
            documents=manifest.counts.documents,
            passages=manifest.counts.passages,
            model=manifest.model.name,
            backend=manifest.model.backend,
            vector_index=manifest.vector_index.kind,
            created_at=manifest.created_at,
            pending=None,
            changes=Changes(),
            excluded=(),
            checkpoint_documents=0,
            passages_per_second=manifest.last_build.passages_per_second,
        ),
    )


@dataclass(frozen=True)
class Verification:
    """What `verify_index` found: whether the build recorded checksums to check every byte against (an
    index built before they were has only its sizes and SQLite's integrity checked), and the index."""

    checksummed: bool
    status: IndexStatus
