"""Top-1 agreement between the default store and the Milvus mirror (`--store`), per mode. Run by hand.

python bench/milvus_agreement.py --docs ../shared/data/bbc --index DIR --store milvus:/tmp/bbc.db \
    --questions ../shared/eval/bbc_qa_dev.jsonl

Opens the same index twice (with and without the mirror; the first use of a store syncs it), asks every
question of the .jsonl file in each mode, and prints how often the top passage, the top 3 and the whole
answer (`SearchResult.to_dict()`) are the same, with the questions that differ.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import Retriever  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=ROOT / "seeds")
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--store", required=True)
    parser.add_argument("--questions", type=Path, default=ROOT.parent / "shared" / "eval" / "seed_qa_dev.jsonl")
    parser.add_argument("--k", type=int, default=3)
    args = parser.parse_args()
    lines = args.questions.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    plain = Retriever.open(docs=args.docs, index=args.index)
    began = time.perf_counter()
    mirrored = Retriever.open(docs=args.docs, index=args.index, store=args.store)
    print(f"opened with the mirror in {time.perf_counter() - began:.1f} s; {len(questions)} questions, k={args.k}")
    for mode in ("hybrid", "dense", "bm25"):
        top1 = top3 = whole = 0
        differ = []
        for question in questions:
            a, b = plain.search(question, k=args.k, mode=mode), mirrored.search(question, k=args.k, mode=mode)
            ids_a, ids_b = [h.passage.id for h in a.hits], [h.passage.id for h in b.hits]
            top1 += ids_a[:1] == ids_b[:1]
            top3 += ids_a == ids_b
            whole += a.to_dict() == b.to_dict()
            if ids_a[:1] != ids_b[:1]:
                differ.append(question)
        n = len(questions)
        print(f"{mode:<7} top-1 {top1}/{n} ({top1 / n:.3f})  top-{args.k} {top3}/{n}  whole answer {whole}/{n}")
        for question in differ[:5]:
            print(f"        differs: {question}")


if __name__ == "__main__":
    main()
