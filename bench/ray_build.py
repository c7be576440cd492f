"""A whole build embedded on Ray (`ask.py index update --ray`) against the single-process build. Run by hand.

python bench/ray_build.py --docs ../shared/data/bbc --work /tmp/raybuild [--workers 2] \
    [--questions ../shared/eval/bbc_qa_dev.jsonl]

Builds the corpus twice from nothing, each `ask.py index update` a fresh process timed end to end (Ray's start
and shutdown included): once in one process, once with `--ray --ray-workers N` on a local Ray. Then compares the
two indexes (same passages in the same rows; the cosine of every passage and sentence vector with its twin) and
their answers (top passage and top 3 over the questions file, hybrid and dense). Ray keeps its token in
~/.ray: run with HOME set to a scratch folder if that matters (XDG_CACHE_HOME keeps the model cache).
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


def build(docs: Path, index: Path, extra: list[str]) -> float:
    shutil.rmtree(index, ignore_errors=True)
    began = time.perf_counter()
    command = [sys.executable, str(ROOT / "ask.py"), "index", "update", "--docs", str(docs), "--index", str(index)]
    done = subprocess.run([*command, "-q", *extra], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"build failed: {done.stderr.strip().splitlines()[-1:]}")
    return seconds


def compare_vectors(plain_dir: Path, ray_dir: Path) -> None:
    plain, ray = read_index(plain_dir), read_index(ray_dir)
    assert plain is not None and ray is not None
    ids_plain = {row: p.id for row, p in plain.iter_passages()}
    ids_ray = {row: p.id for row, p in ray.iter_passages()}
    print(f"passages: {len(ids_plain)} / {len(ids_ray)}, same rows and ids: {ids_plain == ids_ray}")
    rows = sorted(ids_plain)
    a, b = plain.vectors_of(rows), ray.vectors_of(rows)
    cosines = np.array([float(a[r] @ b[r]) for r in rows])
    sa, sb = plain.sentences(rows), ray.sentences(rows)
    sentence_cosines = np.concatenate(
        [np.sum(sa[r][1].astype(np.float32) * sb[r][1].astype(np.float32), axis=1) for r in rows]
    )
    print(
        f"passage vectors: min cosine {cosines.min():.6f}, identical {int(np.sum(cosines >= 1 - 1e-7))}/{len(rows)};"
        f" sentence vectors (float16): min cosine {sentence_cosines.min():.6f} over {len(sentence_cosines)}"
    )


def compare_answers(docs: Path, plain_dir: Path, ray_dir: Path, questions: list[str]) -> None:
    plain = Retriever.open(docs=docs, index=plain_dir)
    ray = Retriever.open(docs=docs, index=ray_dir)
    for mode in ("hybrid", "dense"):
        top1 = top3 = 0
        for question in questions:
            ids_a = [h.passage.id for h in plain.search(question, k=3, mode=mode).hits]
            ids_b = [h.passage.id for h in ray.search(question, k=3, mode=mode).hits]
            top1 += ids_a[:1] == ids_b[:1]
            top3 += ids_a == ids_b
        n = len(questions)
        print(f"{mode:<7} top-1 same {top1}/{n}, top-3 same {top3}/{n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=ROOT / "seeds")
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--questions", type=Path, default=ROOT.parent / "shared" / "eval" / "bbc_qa_dev.jsonl")
    args = parser.parse_args()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in subprocess.check_output(["lscpu"], text=True).splitlines()
            if line.startswith("Model name")
        ),
        "?",
    )
    print(f"CPU: {cpu}, {os.cpu_count()} cores; corpus {args.docs}")
    plain_dir, ray_dir = args.work / "plain", args.work / "ray"
    for name, folder, extra in (
        ("one process", plain_dir, []),
        (f"Ray, {args.workers} workers", ray_dir, ["--ray", "--ray-workers", str(args.workers)]),
    ):
        seconds = build(args.docs, folder, extra)
        stored = read_index(folder)
        assert stored is not None
        last, model = stored.manifest.last_build, stored.manifest.model
        print(
            f"{name:<18} {seconds:6.1f} s wall, {stored.count} passages ({stored.count / seconds:.0f}/s end to end),"
            f" embedding {last.passages_per_second:.0f} passages/s, backend {model.backend}"
        )
    compare_vectors(plain_dir, ray_dir)
    if args.questions.exists():
        lines = args.questions.read_text(encoding="utf-8").splitlines()
        compare_answers(args.docs, plain_dir, ray_dir, [json.loads(line)["question"] for line in lines if line.strip()])


if __name__ == "__main__":
    main()
