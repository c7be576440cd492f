"""Bulk embedding backends vs the sentence-transformers torch fp32 reference: speed and agreement. Run by hand.

python bench/backends.py [--n 2000] [--words 200] [--queries 200] [--backends a,b,...] [--repeat 1]
                         [--tokens-per-batch 1024] [--json OUT]

Passages: ~WORDS-word windows of the BBC articles in /work/shared/data/bbc (a last window shorter than
half is dropped), the first N in path order. Queries: the first sentence of the first QUERIES articles.
Each backend runs in a process of its own. Per backend: passages/s (wall clock, best of --repeat) and
speed-up vs the reference, CPU seconds per 1000 passages and the CPU-time speed-up (less sensitive to
other load on the machine), min and mean cosine to the reference vectors
and the share of each query's top 10 passages (queries and passages both embedded by the backend) that
the reference's top 10 also has. `openvino-onnx-bf16` is an extra: OpenVINO bf16 on the ONNX export.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

import qa.embed.bulk as bulk  # noqa: E402
from qa.embed.onnx import export  # noqa: E402
from qa.embed.reference import load_embedder  # noqa: E402
from qa.embed.runtimes.openvino_embedder import OpenVinoEmbedder  # noqa: E402
from qa.inputs import BACKENDS  # noqa: E402

BBC = Path("/work/shared/data/bbc")
REFERENCE = "sentence-transformers-fp32"
EXPERIMENTAL = ("openvino-onnx-bf16",)
DEPTH = 10


def articles() -> list[str]:
    return [p.read_text(encoding="utf-8", errors="replace") for p in sorted(BBC.glob("*/*.txt"))]


def passages(texts: list[str], n: int, words: int) -> list[str]:
    out: list[str] = []
    for text in texts:
        tokens = text.split()
        for begin in range(0, len(tokens), words):
            window = tokens[begin : begin + words]
            if len(window) >= words // 2:
                out.append(" ".join(window))
            if len(out) >= n:
                return out
    return out


def first_sentences(texts: list[str], n: int) -> list[str]:
    out = []
    for text in texts[:n]:
        paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
        body = paragraphs[1] if len(paragraphs) > 1 else paragraphs[0]  # the first line is the headline
        out.append(re.split(r"(?<=[.!?])\s", body, maxsplit=1)[0])
    return out


def timed(embedder, texts: list[str], repeat: int) -> tuple[np.ndarray, float, float]:
    """Vectors, best wall seconds and the CPU seconds of that run."""
    embedder.embed(texts[:8])  # warm up: lazy loads, OpenVINO's first shapes
    best = (np.inf, np.inf)
    vectors = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        vectors = embedder.embed(texts)
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return vectors, best[0], best[1]


def top(queries: np.ndarray, passages_: np.ndarray) -> np.ndarray:
    return np.argsort(-(queries @ passages_.T), axis=1, kind="stable")[:, :DEPTH]


def make(name: str, reference):
    if name == "openvino-onnx-bf16":  # the ONNX export instead of the IR converted from torch
        return OpenVinoEmbedder(export(reference.path), reference.path, reference.name, reference.dim, "bf16")
    return bulk.bulk_embedder(reference, name)


def worker(name: str, args: argparse.Namespace) -> None:
    """One backend in a process of its own (runtimes' thread pools never compete): vectors and timings."""
    texts = articles()
    docs, queries = passages(texts, args.n, args.words), first_sentences(texts, args.queries)
    reference = load_embedder(None)
    embedder = reference if name == REFERENCE else make(name, reference)
    if args.tokens_per_batch and name != REFERENCE:
        embedder.tokens_per_batch = args.tokens_per_batch
    vectors, wall, cpu = timed(embedder, docs, args.repeat)
    np.savez(args.out / f"{name}.npz", docs=vectors, queries=embedder.embed(queries), wall=wall, cpu=cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000, help="passages to embed")
    parser.add_argument("--words", type=int, default=200, help="words per passage")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--backends", default=",".join(bulk.available_backends()))
    parser.add_argument("--repeat", type=int, default=1, help="time each backend this many times, keep the best")
    parser.add_argument("--tokens-per-batch", type=int, default=0, help="override the backends' batch size")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args)
        return
    names = [name.strip() for name in args.backends.split(",") if name.strip()]
    for name in names:
        if name not in (*BACKENDS, *EXPERIMENTAL):
            parser.error(f"unknown backend {name} (choose from {', '.join((*BACKENDS, *EXPERIMENTAL))})")
    auto = bulk.auto_backend(load_embedder(None).path)
    print(f"auto picks {auto} here; available: {', '.join(bulk.available_backends())}", file=sys.stderr)
    passthrough = ["--n", str(args.n), "--words", str(args.words), "--queries", str(args.queries)]
    passthrough += ["--repeat", str(args.repeat), "--tokens-per-batch", str(args.tokens_per_batch)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in [REFERENCE, *names]:
            command = [sys.executable, __file__, "--worker", name, "--out", tmp, *passthrough]
            subprocess.run(command, check=True)
            result = np.load(Path(tmp) / f"{name}.npz")
            if name == REFERENCE:
                reference, ref_top = result, top(result["queries"], result["docs"])
            cosines = np.sum(result["docs"] * reference["docs"], axis=1)
            found = top(result["queries"], result["docs"])
            kept = sum(len(set(a) & set(b)) for a, b in zip(found, ref_top, strict=True)) / ref_top.size
            wall, cpu, n = float(result["wall"]), float(result["cpu"]), len(cosines)
            rows.append(
                {"backend": name, "per_s": n / wall, "cpu_s_per_1000": 1000 * cpu / n}
                | {"speedup": float(reference["wall"]) / wall, "cpu_speedup": float(reference["cpu"]) / cpu}
                | {"min_cos": float(cosines.min()), "mean_cos": float(cosines.mean()), "top10": kept}
            )
            print(f"  {name}: {n / wall:.1f} passages/s", file=sys.stderr)
    header = f"{'backend':28} {'pass/s':>8} {'speed-up':>8} {'cpu s/1k':>9} {'cpu x':>6} {'min cos':>9} {'mean cos':>9}"
    print(f"{header} {'top-10':>7}")
    for r in rows:
        print(
            f"{r['backend']:28} {r['per_s']:8.1f} {r['speedup']:7.2f}x"
            f" {r['cpu_s_per_1000']:9.1f} {r['cpu_speedup']:5.2f}x"
            f" {r['min_cos']:9.6f} {r['mean_cos']:9.6f} {r['top10']:7.1%}"
        )
    if args.json:
        settings = {"n": args.n, "words": args.words, "queries": args.queries, "repeat": args.repeat}
        settings["tokens_per_batch"] = args.tokens_per_batch or "backend default"
        args.json.write_text(json.dumps({"settings": settings, "rows": rows}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
