"""How an index stands against its corpus, without building anything or loading a model."""

from __future__ import annotations

from pathlib import Path

import qa.storage.generations as generations
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
    )
