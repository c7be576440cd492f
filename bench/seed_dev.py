"""Seed dev questions: does an accepted answer appear in the top-k passages? Run by hand.

python bench/seed_dev.py [--k 3] [--min-words 60 --max-words 160 --overlap 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import ChunkSettings, Retriever  # noqa: E402

DEV = ROOT.parent / "shared" / "eval" / "seed_qa_dev.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--min-words", type=int, default=ChunkSettings.min_words)
    parser.add_argument("--max-words", type=int, default=ChunkSettings.max_words)
    parser.add_argument("--overlap", type=int, default=ChunkSettings.overlap)
    parser.add_argument("--dev", type=Path, default=DEV)
    parser.add_argument("--mode", default="hybrid", choices=["hybrid", "dense", "bm25"])
    args = parser.parse_args()
    settings = ChunkSettings(args.min_words, args.max_words, args.overlap)
    questions = [json.loads(line) for line in args.dev.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        retriever = Retriever.open(docs=ROOT / "seeds", index=tmp, chunking=settings)
        built = time.perf_counter() - began
        at1 = atk = total = 0
        for q in questions:
            if not q.get("answers"):
                continue
            total += 1
            hits = retriever.search(q["question"], k=args.k, mode=args.mode).hits
            found = [any(a.lower() in h.text.lower() for a in q["answers"]) for h in hits]
            at1 += bool(found and found[0])
            atk += any(found)
            mark = "ok " if any(found) else "MISS"
            print(f"{mark} {q['id']} rank={found.index(True) + 1 if any(found) else '-'}  {q['question']}")
    print(
        f"{args.mode} {settings}: {len(retriever)} passages, build {built:.1f}s; "
        f"hit@1 {at1}/{total}, hit@{args.k} {atk}/{total}"
    )


if __name__ == "__main__":
    main()
