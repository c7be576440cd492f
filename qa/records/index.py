"""What an index holds and how it stands."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.records.hits import (
    Passage,
    Source,
)


@dataclass(frozen=True)
class StoredPassage:
    """A passage with everything embedded for it, as written by a build."""

    passage: Passage
    vector: np.ndarray  # (dim,)
    spans: np.ndarray  # (k, 2) int64: raw offsets of its sentences
    sentence_vectors: np.ndarray  # (k, dim)


@dataclass(frozen=True)
class Changes:
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def describe(self) -> str:
        return f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed"


@dataclass(frozen=True)
class IndexStatus:
    """What `ask.py index status` shows: the live index and how it stands against the corpus."""

    index_dir: str
    generation: str | None
    documents: int
    passages: int
    model: str | None
    backend: str | None
    vector_index: str | None
    created_at: str | None
    pending: str | None  # why the next question would update the index; None when up to date
    changes: Changes
    excluded: tuple[str, ...]
    checkpoint_documents: int  # documents an interrupted build has committed (0: none)
    passages_per_second: float = 0.0  # how fast the build that wrote it embedded (0: it embedded nothing)
    ray_workers: int = 0  # the Ray actors it embedded on (0: in the building process)


@dataclass(frozen=True)
class IndexedDocument:
    """One indexed article as the fronts list it: its key, where it comes from, how many passages it has."""

    key: str
    source: Source
    passages: int
