"""Embedding with Ray (qa/embed/runtimes/ray_embedder.py) against the single-process bulk encoder. Run by hand.

python bench/ray_embed.py [--texts 1000] [--backend auto] [--workers 1,2]

The texts are BBC articles (../shared/data/bbc/*/*.txt) cut into ~600-character passages. Each run is a fresh
process, so every one pays its imports and model loads: "single" builds the bulk encoder and embeds; "ray-N"
is embed_with_ray with N actors on a local Ray (its ray.init and ray.shutdown included). The peak RSS is the
largest sum over the process and its descendants (Ray's raylet, GCS, actors...), sampled every 0.2 s.
"auto" is resolved once, here, so every run uses the same backend.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BBC = ROOT.parent / "shared" / "data" / "bbc"


def passages(count: int, size: int = 600) -> list[str]:
    found: list[str] = []
    for path in sorted(BBC.glob("*/*.txt")):
        text = " ".join(path.read_text(encoding="utf-8", errors="replace").split())
        found += [text[i : i + size] for i in range(0, len(text), size) if len(text[i : i + size]) > size // 3]
        if len(found) >= count:
            return found[:count]
    return found


def tree_rss() -> int:
    """Bytes resident in this process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")  # field 24 of stat: resident pages
    total, todo = 0, [os.getpid()]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


def run_one(mode: str, count: int, backend: str) -> dict[str, float]:
    """One measurement, in this process."""
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], tree_rss())

    texts = passages(count)
    from qa.embed.runtimes.ray_embedder import EncoderSpec, embed_with_ray

    spec = EncoderSpec.load(None, backend)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    began = time.perf_counter()
    if mode == "single":
        vectors = spec.build().embed(texts)
    else:
        vectors = embed_with_ray(texts, spec, workers=int(mode.split("-")[1]))
    seconds = time.perf_counter() - began
    done.set()
    sampler.join()
    assert vectors.shape[0] == len(texts)
    return {"texts": len(texts), "seconds": seconds, "peak_rss_mb": peak[0] / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a single measurement, in a child process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.texts, args.backend)))
        return

    from qa.embed.runtimes.ray_embedder import EncoderSpec

    backend = EncoderSpec.load(None, args.backend).resolved().backend
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in subprocess.check_output(["lscpu"], text=True).splitlines()
            if line.startswith("Model name")
        ),
        "?",
    )
    print(f"CPU: {cpu}, {os.cpu_count()} cores; backend {backend}; {args.texts} BBC passages of ~600 characters")
    print(f"{'run':<10} {'seconds':>8} {'texts/s':>8} {'peak RSS MB':>12}")
    for mode in ["single", *(f"ray-{n}" for n in args.workers.split(","))]:
        command = [sys.executable, __file__, "--one", mode, "--texts", str(args.texts), "--backend", backend]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{mode:<10} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        rate = result["texts"] / result["seconds"]
        print(f"{mode:<10} {result['seconds']:>8.1f} {rate:>8.1f} {result['peak_rss_mb']:>12.0f}")


if __name__ == "__main__":
    main()
