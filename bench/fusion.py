"""Compare fusion functions for hybrid retrieval on the same candidate lists. Run by hand.

python bench/fusion.py squad|realtimeqa [--questions 4000]

Takes each question's top 100 from FAISS and from bm25s (the indexes bench/retrieval.py keeps in
/tmp/newsqa-bench) and replays reciprocal-rank fusion and convex combinations of min-max-normalised
scores over them, printing recall@1 and recall@5 (success as in bench/retrieval.py).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import corpora  # noqa: E402

from qa import Retriever  # noqa: E402
from qa.search.candidates import dense_candidates, lexical_candidates  # noqa: E402
from qa.search.ranking import convex, min_max  # noqa: E402

WORK = Path("/tmp/newsqa-bench")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset", choices=sorted(corpora.LOADERS))
    parser.add_argument("--questions", type=int, default=4000)
    args = parser.parse_args()
    records, questions = corpora.LOADERS[args.dataset]()
    corpora.write_corpus(records, WORK / args.dataset / "corpus.jsonl")
    retriever = Retriever.open(docs=WORK / args.dataset / "corpus.jsonl", index=WORK / args.dataset / "index")
    questions = random.Random(2).sample(questions, min(args.questions, len(questions)))
    index = retriever._index  # noqa: SLF001 - a benchmark may look inside
    vectors = retriever._embedder.embed([q["question"] for q in questions])  # noqa: SLF001
    lists = []
    for q, vector in zip(questions, vectors, strict=True):
        dense = dense_candidates(index, vector, 100, None)
        lexical = lexical_candidates(index, q["question"], 100, None)
        good = set()
        candidates = index.passages(dense.keys() | lexical.keys())
        for row, passage in candidates.items():
            if index.documents[passage.doc_key].source_id not in q["gold"]:
                continue
            if args.dataset == "squad" or any(a.lower() in passage.text.lower() for a in q["answers"] if a):
                good.add(row)
        lists.append((dense, lexical, good))

    def score(rank) -> tuple[float, float]:
        r1 = r5 = 0
        for dense, lexical, good in lists:
            order = rank(dense, lexical)[:5]
            r1 += bool(order) and order[0] in good
            r5 += any(row in good for row in order)
        return r1 / len(lists), r5 / len(lists)

    def ordered(scores: dict[int, float]) -> list[int]:
        return sorted(scores, key=lambda row: (-scores[row], row))

    def rrf(k: int, lexical_weight: float = 1.0):
        def rank(dense, lexical):
            fused: dict[int, float] = {}
            for weight, ranking in ((1.0, dense), (lexical_weight, lexical)):
                for row, (position, _) in ranking.items():
                    fused[row] = fused.get(row, 0.0) + weight / (k + position)
            return ordered(fused)

        return rank

    def convex_fusion(weight: float):
        return lambda dense, lexical: ordered(convex(min_max(dense), min_max(lexical), weight))

    print(f"{args.dataset}: {len(lists)} questions; recall@1, recall@5")
    print(f"  dense only          {score(lambda dense, _: ordered({r: s for r, (_, s) in dense.items()}))}")
    print(f"  bm25 only           {score(lambda _, lexical: ordered({r: s for r, (_, s) in lexical.items()}))}")
    for k in (60, 20):
        for lexical_weight in (1.0, 1.5, 2.0):
            print(f"  rrf k={k} bm25 x{lexical_weight}  {score(rrf(k, lexical_weight))}")
    for weight in (0.3, 0.4, 0.5, 0.6, 0.7):
        print(f"  convex dense={weight}    {score(convex_fusion(weight))}")


if __name__ == "__main__":
    main()
