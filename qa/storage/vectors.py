"""The vector index, chosen by size: exact while small, 8-bit codes scanned in full, then IVF with 8-bit codes.

All keep the passage rows as FAISS ids (IndexIDMap2 around the flat indexes; IVF stores ids itself), so
an update removes and adds rows in place. A flat float32 scan reads 154 MB per question at 100k
passages (15 ms on 2 threads here); 8-bit scalar codes read a quarter of that (6-9 ms); IVF-SQ8
(nlist ~ 4 sqrt(n), nprobe 64) probes 1/16 of them (under 1 ms at 55k, ~2 ms at 1M). The retriever
re-scores the candidates of both 8-bit kinds with the exact stored vectors, so scores are exact
cosines and the order among candidates is exact (docs/benchmarks.md has the recall figures).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np

EXACT_MAX = 20_000  # passages; up to this the index is exact (float32 flat)
# up to this a full scan of 8-bit codes; above, IVF-SQ8. On real vectors (bench/ann_recall.py, 55,595 BBC
# passage and sentence vectors, re-scored top 100) IVF-SQ8 nprobe 64 keeps recall@10 0.990 of exact at
# 0.65 ms, against 2.9 ms for the full 8-bit scan (0.996); at 100k the full scan costs ~9 ms.
FLAT_MAX = 50_000
NPROBE = 64
_TRAIN_PER_LIST = 40  # k-means wants >= 39 training points per list
faiss.cvar.distance_compute_blas_threshold = 16  # batched flat search through BLAS (6-7x faster measured)


@dataclass(frozen=True)
class AnnSpec:
    kind: str  # "flat", "sq8" or "ivf-sq8"
    nlist: int = 0
    nprobe: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "nlist": self.nlist, "nprobe": self.nprobe}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnnSpec:
        return cls(str(data.get("kind", "flat")), int(data.get("nlist", 0)), int(data.get("nprobe", 0)))


def choose(n: int) -> AnnSpec:
    """The index for n passages."""
    if n <= EXACT_MAX:
        return AnnSpec("flat")
    if n <= FLAT_MAX:
        return AnnSpec("sq8")
    nlist = max(1, min(1 << round(math.log2(4 * math.sqrt(n))), n // _TRAIN_PER_LIST))
    return AnnSpec("ivf-sq8", nlist, min(NPROBE, nlist))


def build(spec: AnnSpec, dim: int, batches: Iterator[tuple[np.ndarray, list[bytes]]], train: np.ndarray) -> faiss.Index:
    """A new index of `spec` holding every (rows, vectors) batch; `train` is a sample of the vectors."""
    index = empty(spec, dim)
    if spec.kind != "flat":
        index.train(np.ascontiguousarray(train, dtype=np.float32))
    for rows, blobs in batches:
        add(index, rows, np.vstack([np.frombuffer(b, dtype=np.float32) for b in blobs]))
    return index


def training_size(spec: AnnSpec) -> int:
    """Vectors to train on: enough for k-means, and enough that the 8-bit ranges see every dimension's extremes."""
    return 0 if spec.kind == "flat" else max(spec.nlist * _TRAIN_PER_LIST, 50_000)  # sq8: ranges only


def empty(spec: AnnSpec, dim: int) -> faiss.Index:
    if spec.kind == "flat":
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    if spec.kind == "sq8":
        return faiss.IndexIDMap2(
            faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        )
    if spec.kind == "ivf-sq8":
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFScalarQuantizer(quantizer, dim, spec.nlist, faiss.ScalarQuantizer.QT_8bit)
        index.metric_type = faiss.METRIC_INNER_PRODUCT
        index.nprobe = spec.nprobe
        index.own_fields = True
        quantizer.this.disown()  # type: ignore[attr-defined]  # SWIG's ownership handle, not in faiss's stubs
        return index
    raise ValueError(f"unknown vector index kind {spec.kind!r}")


def add(index: faiss.Index, rows: np.ndarray, vectors: np.ndarray) -> None:
    if len(rows):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.ascontiguousarray(rows, np.int64))


def remove(index: faiss.Index, rows: list[int]) -> None:
    if rows:
        index.remove_ids(np.array(sorted(rows), dtype=np.int64))  # type: ignore[arg-type]  # faiss wraps arrays


def search(
    index: faiss.Index, queries: np.ndarray, depth: int, allowed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, rows) of the `depth` nearest passages to each query (rows among `allowed`); -1 pads."""
    queries = np.ascontiguousarray(queries.reshape(-1, index.d), dtype=np.float32)
    params: faiss.SearchParameters | None = None
    if isinstance(index, faiss.IndexIVF):
        params = faiss.SearchParametersIVF(nprobe=index.nprobe)  # type: ignore[call-arg]  # faiss's keyword wrapper
        if allowed is not None:
            params.sel = faiss.IDSelectorBatch(allowed)
    elif allowed is not None:
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))  # type: ignore[call-arg]
    if params is None:
        return index.search(queries, depth)
    return index.search(queries, depth, params=params)


def read(path: str) -> faiss.Index:
    return faiss.read_index(path)
