"""The Milvus mirror's costs on a built index: sync, restore, searches and whole answers. Run by hand.

python bench/milvus_speed.py --docs ../shared/data/bbc --index DIR --work /tmp/milvus-speed \
    [--questions ../shared/eval/bbc_qa_dev.jsonl]

DIR is a built index of --docs (`ask.py index update --docs ... --index DIR`). In --work (emptied first):
1. sync the index into a new Milvus Lite mirror (documents, passages, rows/s, size on disk), then again
   unchanged;
2. restore a new index folder from that mirror (`ask.py index update --store`, a fresh process: reading and
   chunking the corpus, the mirror's vectors instead of embedding, FAISS and BM25 built);
3. per question of the file, warm: the mirror's dense, BM25 and hybrid searches (depth 100), then whole
   answers (k=3, hybrid) with and without the mirror; p50 and p95 in ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from qa import Retriever  # noqa: E402
from qa.storage.generations import read_index  # noqa: E402
from qa.storage.milvus import MilvusStore  # noqa: E402


def size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20


def percentiles(seconds: list[float]) -> str:
    ms = np.array(seconds) * 1000
    return f"p50 {np.percentile(ms, 50):6.1f} ms, p95 {np.percentile(ms, 95):6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--questions", type=Path, default=ROOT.parent / "shared" / "eval" / "bbc_qa_dev.jsonl")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in subprocess.check_output(["lscpu"], text=True).splitlines()
            if line.startswith("Model name")
        ),
        "?",
    )
    print(f"CPU: {cpu}, {os.cpu_count()} cores; index {args.index}")
    index = read_index(args.index)
    if index is None:
        sys.exit(f"no index in {args.index}: build it first (ask.py index update --docs ... --index ...)")
    mirror = args.work / "mirror.db"
    store = f"milvus:{mirror}"
    with MilvusStore.open(store, index.manifest.model.dim) as engine:
        report = engine.sync(index)
        print(
            f"sync into a new mirror: {report.added_documents} documents, {report.passages} passages in"
            f" {report.seconds:.1f} s ({report.passages / report.seconds:.0f} passages/s), {size_mb(mirror):.0f} MB"
        )
        again = engine.sync(index)
        print(f"sync again, unchanged: {again.seconds:.2f} s")
    index.close()

    began = time.perf_counter()
    restore = [sys.executable, str(ROOT / "ask.py"), "index", "update", "--docs", str(args.docs)]
    done = subprocess.run(
        [*restore, "--index", str(args.work / "restored"), "--store", store, "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"restore failed: {done.stderr.strip().splitlines()[-1:]}")
    print(f"restore a new index folder from the mirror: {time.perf_counter() - began:.1f} s wall")
    print("  " + done.stdout.strip().replace("\n", "\n  "))

    lines = args.questions.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    plain = Retriever.open(docs=args.docs, index=args.index)
    mirrored = Retriever.open(docs=args.docs, index=args.index, store=store)
    engine = mirrored._engine  # noqa: SLF001 - the searches alone
    assert engine is not None
    vectors = [mirrored._question_vector(q) for q in questions]  # noqa: SLF001 - encoded once, not timed
    for name, search in (
        ("mirror dense search", lambda q, v: engine.dense(v, 100)),
        ("mirror BM25 search", lambda q, v: engine.lexical(q, 100)),
        ("mirror hybrid search", lambda q, v: engine.hybrid(v, q, 100)),
        ("whole answer, default store", lambda q, v: plain.search(q, k=3)),
        ("whole answer, with the mirror", lambda q, v: mirrored.search(q, k=3)),
    ):
        search(questions[0], vectors[0])  # warm
        timings = []
        for question, vector in zip(questions, vectors, strict=True):
            began = time.perf_counter()
            search(question, vector)
            timings.append(time.perf_counter() - began)
        print(f"{name:<30} {percentiles(timings)} over {len(questions)} questions")


if __name__ == "__main__":
    main()
