"""Retrieval benchmark: dense vs BM25 vs hybrid on SQuAD v1.1 dev and RealTimeQA 2022. Run by hand.

python bench/retrieval.py squad|realtimeqa [--index-dir DIR] [--limit N] [--modes hybrid,dense,bm25]

The corpus is written as one .jsonl file and indexed with the real model through the public API (the
index is kept in --index-dir, default /tmp/newsqa-bench/<name>, so a second run only searches).
Metrics per mode: recall@1, recall@5 (a success in the top 1 / 5), MRR over the top 10, and
answer-in-highlight (the top hit is a success and its highlighted sentence holds an accepted answer).
SQuAD: success = a passage of the question's paragraph. RealTimeQA: a passage of a gold article that
contains the correct choice; `ceiling` counts questions whose gold articles contain the choice at all.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import corpora  # noqa: E402

from qa import Retriever  # noqa: E402

DEPTH = 10


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset", choices=sorted(corpora.LOADERS))
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions (0: all)")
    parser.add_argument("--modes", default="hybrid,dense,bm25")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="write per-question results as JSON lines")
    args = parser.parse_args()
    records, questions = corpora.LOADERS[args.dataset]()
    if args.limit:
        questions = questions[: args.limit]
    work = args.index_dir or Path("/tmp/newsqa-bench") / args.dataset
    corpus = work / "corpus.jsonl"
    corpora.write_corpus(records, corpus)
    began = time.perf_counter()
    retriever = Retriever.open(docs=corpus, index=work / "index")
    seconds = time.perf_counter() - began
    print(f"{args.dataset}: {len(records)} documents, {len(retriever)} passages; open/build {seconds:.0f}s")
    if args.build_only:
        return
    rows = []
    print(
        f"{'mode':<8} {'recall@1':>9} {'recall@5':>9} {'MRR@10':>7} {'ans-in-hl':>10} {'ms/q':>6}  (n={len(questions)})"
    )
    for mode in args.modes.split(","):
        r1 = r5 = mrr = in_highlight = 0.0
        began = time.perf_counter()
        results = retriever.search_many([q["question"] for q in questions], k=DEPTH, mode=mode, group_copies=False)
        for q, result in zip(questions, results, strict=True):
            ranks = [i for i, hit in enumerate(result.hits) if success(q, hit, args.dataset)]
            first = ranks[0] + 1 if ranks else None
            r1 += first == 1
            r5 += first is not None and first <= 5
            mrr += 1 / first if first else 0.0
            top = result.hits[0] if result.hits else None
            highlighted = bool(first == 1 and top.highlight and contains(top.highlight_text, q["answers"]))
            in_highlight += highlighted
            rows.append(
                {"mode": mode, "id": q["id"], "rank": first, "in_highlight": highlighted, "answered": result.answered}
            )
        n = len(questions)
        ms = 1000 * (time.perf_counter() - began) / max(n, 1)
        print(f"{mode:<8} {r1 / n:9.3f} {r5 / n:9.3f} {mrr / n:7.3f} {in_highlight / n:10.3f} {ms:6.1f}")
    if args.dataset == "realtimeqa":
        texts = {r["id"]: r["text"] for r in records}
        ceiling = sum(any(contains(texts[g], q["answers"]) for g in q["gold"]) for q in questions)
        print(f"ceiling: {ceiling}/{len(questions)} questions have the correct choice in a gold article")
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def success(q: dict, hit, dataset: str) -> bool:
    if hit.source.id not in q["gold"]:
        return False
    return dataset == "squad" or contains(hit.text, q["answers"])


def contains(text: str, answers: list[str]) -> bool:
    low = text.lower()
    return any(a.lower() in low for a in answers if a)


if __name__ == "__main__":
    main()
