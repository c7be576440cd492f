"""Bulk embedding backends vs the sentence-transformers torch fp32 reference: speed and agreement. Run by hand.

python bench/backends.py [--n 2000] [--words 200] [--queries 200] [--backends a,b,...] [--repeat 1]
                         [--tokens-per-batch 1024] [--json OUT]

Passages: ~WORDS-word windows of the BBC articles in /work/shared/data/bbc (a last window shorter than
half is dropped), the first N in path order. Queries: the first sentence of the first QUERIES articles.
Per backend: passages/s (wall clock, best of --repeat), CPU seconds per 1000 passages (less sensitive
to other load on the machine), speed-up vs the reference, min and mean cosine to the reference vectors
and the share of each query's top 10 passages (queries and passages both embedded by the backend) that
the reference's top 10 also has. `openvino-onnx-bf16` is an extra: OpenVINO bf16 on the ONNX export.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from qa import bulk  # noqa: E402
from qa.embed import load_embedder  # noqa: E402

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
        from qa.onnx_embed import export

        return bulk.OpenVinoEmbedder(export(reference.path), reference.path, reference.name, reference.dim, "bf16")
    return bulk.bulk_embedder(reference, name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000, help="passages to embed")
    parser.add_argument("--words", type=int, default=200, help="words per passage")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--backends", default=",".join(bulk.available_backends()))
    parser.add_argument("--repeat", type=int, default=1, help="time each backend this many times, keep the best")
    parser.add_argument("--tokens-per-batch", type=int, default=0, help="override the backends' batch size")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    args = parser.parse_args()

    texts = articles()
    docs, queries = passages(texts, args.n, args.words), first_sentences(texts, args.queries)
    reference = load_embedder(None)
    print(f"{len(docs)} passages of ~{args.words} words, {len(queries)} queries", file=sys.stderr)
    ref_docs, ref_wall, ref_cpu = timed(reference, docs, args.repeat)
    ref_top = top(reference.embed(queries), ref_docs)
    rows = [
        {"backend": REFERENCE, "per_s": len(docs) / ref_wall, "cpu_s_per_1000": 1000 * ref_cpu / len(docs)}
        | {"speedup": 1.0, "min_cos": 1.0, "mean_cos": 1.0, "top10": 1.0}
    ]
    for name in args.backends.split(","):
        name = name.strip()
        if name not in (*bulk.BACKENDS, *EXPERIMENTAL):
            parser.error(f"unknown backend {name} (choose from {', '.join((*bulk.BACKENDS, *EXPERIMENTAL))})")
        embedder = make(name, reference)
        if args.tokens_per_batch:
            embedder.tokens_per_batch = args.tokens_per_batch
        vectors, wall, cpu = timed(embedder, docs, args.repeat)
        cosines = np.sum(vectors * ref_docs, axis=1)
        found = top(embedder.embed(queries), vectors)
        kept = sum(len(set(a) & set(b)) for a, b in zip(found, ref_top, strict=True)) / ref_top.size
        rows.append(
            {"backend": name, "per_s": len(docs) / wall, "cpu_s_per_1000": 1000 * cpu / len(docs)}
            | {"speedup": ref_wall / wall, "min_cos": float(cosines.min()), "mean_cos": float(cosines.mean())}
            | {"top10": kept}
        )
        print(f"  {name}: {len(docs) / wall:.1f} passages/s", file=sys.stderr)
    print(f"{'backend':28} {'pass/s':>8} {'cpu s/1k':>9} {'speed-up':>8} {'min cos':>9} {'mean cos':>9} {'top-10':>7}")
    for r in rows:
        print(
            f"{r['backend']:28} {r['per_s']:8.1f} {r['cpu_s_per_1000']:9.1f} {r['speedup']:7.2f}x"
            f" {r['min_cos']:9.6f} {r['mean_cos']:9.6f} {r['top10']:7.1%}"
        )
    if args.json:
        settings = {"n": len(docs), "words": args.words, "queries": len(queries), "repeat": args.repeat}
        settings["tokens_per_batch"] = args.tokens_per_batch
        args.json.write_text(json.dumps({"settings": settings, "rows": rows}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
