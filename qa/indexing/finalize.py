"""The last steps of a build: the vector and BM25 indexes over a filled database, and the versions it records."""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

import faiss
import numpy as np

import qa.storage.vectors as ann
from qa.storage.bm25 import LexicalIndex
from qa.storage.database import PassageDatabase


def vectors_from_database(database: PassageDatabase, spec: ann.AnnSpec) -> faiss.Index:
    """A new vector index of `spec` over every passage vector, trained on a seeded sample when it needs training."""
    train = np.zeros((0, database.dim), np.float32)
    wanted = ann.training_size(spec)
    if wanted:
        rows = database.all_rows()
        sample = np.random.default_rng(0).choice(rows, size=min(wanted, len(rows)), replace=False)
        found = database.vectors(sample.tolist())
        train = np.vstack([found[int(r)] for r in sample])
    return ann.build(spec, database.dim, database.iter_rows("vector"), train)


def lexical_from_database(database: PassageDatabase, folder: Path) -> LexicalIndex:
    """A new BM25 index over every passage text, read from the database a batch at a time, written in `folder`."""
    return LexicalIndex.build_batches(database.iter_rows("text"), folder)


def library_versions() -> dict[str, str]:
    """Python's and the main libraries' versions, as the manifest records them."""
    versions = {"python": platform.python_version()}
    for dist in ("newsqa", "faiss-cpu", "numpy", "sentence-transformers", "torch"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return versions
