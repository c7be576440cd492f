"""Recall@10 of each vector index kind against exact search, after the retriever's exact re-scoring.

    python bench/ann_recall.py [--index DIR] [--queries FILE] [--nprobe 32 64 128]

Vectors: every passage and sentence vector of a built index (real all-MiniLM-L6-v2 vectors; default the
BBC folder index that `bench/scale.py incremental` builds: 12k passages + 43k sentences). Queries: the
200 BBC queries of bench/peers.py, encoded by the query path. For each kind the top 100 candidates
are re-scored with the exact vectors (what qa/search/candidates.py does), and their top 10 are compared with
the exact top 10. nlist follows qa/storage/vectors.py (4 sqrt(n), a power of two).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import qa.storage.generations as generations  # noqa: E402
import qa.storage.vectors as ann  # noqa: E402
from qa.embed.onnx import query_embedder  # noqa: E402
from qa.embed.reference import load_embedder  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, default=Path("/tmp/newsqa-bench/incremental/index"))
    parser.add_argument("--queries", type=Path, default=Path("/tmp/newsqa-bench/bbc/queries.jsonl"))
    parser.add_argument("--nprobe", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    index = generations.read_index(args.index)
    assert index is not None, f"no index in {args.index}"
    parts = []
    for row, _ in index.iter_passages():
        spans, vectors = index.sentences_of(row)
        parts.append(index.vectors_of([row])[row][None, :])
        parts.append(np.asarray(vectors, dtype=np.float32))
    x = np.concatenate(parts)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    questions = [json.loads(line)["question"] for line in args.queries.read_text().splitlines() if line.strip()]
    queries = query_embedder(load_embedder()).embed(questions)
    exact = np.argsort(-(queries @ x.T), axis=1)[:, :10]
    rows = np.arange(len(x))
    train = x[np.random.default_rng(0).choice(len(x), min(len(x), 50_000), replace=False)]
    n = len(x)
    nlist = 1 << round(np.log2(4 * np.sqrt(n)))
    specs = [ann.AnnSpec("sq8")] + [ann.AnnSpec("ivf-sq8", nlist, p) for p in args.nprobe]
    out = []
    print(f"{n} real vectors, {len(queries)} queries")
    print(f"{'index':>24} {'ms/query':>9} {'recall@10':>10}")
    for spec in specs:
        built = ann.build(spec, x.shape[1], iter([(rows, [v.tobytes() for v in x])]), train)
        started = time.perf_counter()
        found = [ann.search(built, q, 100)[1][0] for q in queries]
        ms = (time.perf_counter() - started) / len(queries) * 1000
        recall = []
        for i, cand in enumerate(found):
            cand = cand[cand >= 0]
            top = cand[np.argsort(-(x[cand] @ queries[i]))[:10]]
            recall.append(len(set(top.tolist()) & set(exact[i].tolist())) / 10)
        name = spec.kind + (f" nlist {spec.nlist} nprobe {spec.nprobe}" if spec.nlist else "")
        print(f"{name:>24} {ms:9.2f} {np.mean(recall):10.3f}")
        out.append({"index": name, "ms_per_query": ms, "recall_at_10": float(np.mean(recall)), "vectors": n})
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
