"""What the reader costs: warm question latency and top-1 against how many candidates it reads. Run by hand.

python bench/reader_speed.py [--bbc-index /tmp/bbc-index] [--depths 0 3 5 8 10 15] [--cold 5]

Warm: the BBC dev held-out questions (bench/bbc_split.py) asked one at a time of one open retriever over the
BBC index (k=3, hybrid), the reader reading the top N candidates (N=0: `--fast`, no reader); p50 and p95
of the whole `search` call, and top-1 gold (from the gold article, holding an answer). The fitted settings
are the card's; only the depth changes. Cold: `python ask.py "When did the withdrawal finish?"` on the seeds,
a new process each time (the index already built), median of --cold runs, with and without --fast.
Say which CPU gave the numbers (lscpu's model name): the reader is a 6-layer network run by onnxruntime.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bbc_split import questions  # noqa: E402
from reader_eval import bbc_gold, gold_rank  # noqa: E402
from reader_fit import BBC  # noqa: E402

from qa import Retriever, SilentReporter  # noqa: E402


def warm(index: Path, depths: list[int]) -> None:
    qs = [q for q in questions("heldout") if q.get("answers")]
    fast = Retriever.open(BBC, index, reporter=SilentReporter(), reader=False)
    read = Retriever.open(BBC, index, reporter=SilentReporter())
    fit = read._reader_fit
    assert fit is not None
    print(f"warm, BBC dev held-out ({len(qs)} answerable questions), k=3\n")
    print("| candidates read | p50 ms | p95 ms | top-1 gold |")
    print("|---|---|---|---|")
    for depth in depths:
        retriever = fast if depth == 0 else read
        if depth:
            read._reader_fit = replace(fit, depth=depth)
        retriever.search(qs[0]["question"], k=3)  # warm-up
        times, top1 = [], 0
        for q in qs:
            began = time.perf_counter()
            result = retriever.search(q["question"], k=3)
            times.append(1000 * (time.perf_counter() - began))
            top1 += gold_rank(q, result, bbc_gold) == 1
        p95 = sorted(times)[int(0.95 * (len(times) - 1))]
        label = "0 (--fast)" if depth == 0 else str(depth)
        print(f"| {label} | {statistics.median(times):.0f} | {p95:.0f} | {top1 / len(qs):.3f} ({top1}/{len(qs)}) |")
    read._reader_fit = fit


def cold(runs: int) -> None:
    question = "When did the withdrawal finish?"
    print(f"\ncold one-shot on the seeds: `python ask.py {question!r}`, median of {runs}\n")
    print("| command | seconds |")
    print("|---|---|")
    for extra in ([], ["--fast"]):
        command = [sys.executable, str(ROOT / "ask.py"), question, *extra]
        subprocess.run(command, capture_output=True, check=True)  # the index built and the export made
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True)
            times.append(time.perf_counter() - began)
        print(f"| ask.py ... {' '.join(extra)} | {statistics.median(times):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bbc-index", type=Path, default=Path("/tmp/bbc-index"))
    parser.add_argument("--depths", type=int, nargs="+", default=[0, 3, 5, 8, 10, 15])
    parser.add_argument("--cold", type=int, default=5)
    args = parser.parse_args()
    warm(args.bbc_index, args.depths)
    if args.cold:
        cold(args.cold)


if __name__ == "__main__":
    main()
