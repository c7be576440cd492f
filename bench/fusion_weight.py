"""Choose the hybrid dense weight on fit data: replay `w * cosine + (1 - w) * BM25 / ceiling` over cached candidates.

python bench/rerank.py --sets all   # once: computes and caches every question's candidate features
python bench/fusion_weight.py [--cache /tmp/newsqa-bench/rerank-features.pkl] [--weights 0.3 0.4 0.5 0.6 0.7]

Run by hand. For each question of bench/rerank.py's cache (SQuAD fit / held-out by article, BBC dev fit /
held-out by bench/bbc_split.py, RealTimeQA and the seed dev questions, never fitted on) the first 50
candidates of the hybrid order carry their exact cosine and BM25 (bench/features.py) and their labels;
this reorders them by the absolute fusion for each weight and prints top-1 per part, with today's order
(`labels[0]`) for comparison. The rule: the weight with the best mean top-1 over the two fit parts.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import rerank  # noqa: E402  (the Item records of the cache)
from features import FEATURES  # noqa: E402

PARTS = [
    ("squad", "fit"),
    ("bbc", "fit"),
    ("squad", "heldout"),
    ("bbc", "heldout"),
    ("realtimeqa", "heldout"),
    ("seeds", "heldout"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, default=rerank.WORK / "rerank-features.pkl")
    parser.add_argument("--weights", type=float, nargs="+", default=[0.3, 0.4, 0.5, 0.6, 0.7])
    parser.add_argument("--bbc-index", type=Path, default=Path("/tmp/bbc-index"))
    args = parser.parse_args()
    sys.modules["__main__"].Item = rerank.Item  # type: ignore[attr-defined]  # pickled by rerank.py run as __main__
    items = pickle.loads(args.cache.read_bytes())
    retrievers = rerank.open_all(argparse.Namespace(bbc_index=args.bbc_index))
    cosine, bm25 = FEATURES.index("cosine"), FEATURES.index("bm25")
    ceilings = [ceiling_of(retrievers[item.dataset], item.record["question"]) for item in items]
    print(
        "| w | " + " | ".join(f"{name} {part} ({count(items, name, part)})" for name, part in PARTS) + " | fit mean |"
    )
    print("| --- " * (len(PARTS) + 2) + "|")
    rows = {"today": [float(item.labels[0]) for item in items]}
    for w in args.weights:
        rows[str(w)] = [
            float(item.labels[int(np.argmax(w * item.matrix[:, cosine] + (1 - w) * item.matrix[:, bm25] / c))])
            for item, c in zip(items, ceilings, strict=True)
        ]
    for name, hits in rows.items():
        shares = [share(items, hits, dataset, part) for dataset, part in PARTS]
        print(f"| {name} | " + " | ".join(f"{s:.3f}" for s in shares) + f" | {(shares[0] + shares[1]) / 2:.3f} |")


def ceiling_of(retriever, question: str) -> float:
    scored = retriever._index.lexical.scored(question)  # noqa: SLF001
    return scored.ceiling if scored is not None else 1.0


def count(items, dataset: str, part: str) -> int:
    return sum(item.dataset == dataset and item.part == part for item in items)


def share(items, hits: list[float], dataset: str, part: str) -> float:
    picked = [hit for item, hit in zip(items, hits, strict=True) if item.dataset == dataset and item.part == part]
    return sum(picked) / len(picked) if picked else float("nan")


if __name__ == "__main__":
    main()
