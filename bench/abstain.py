"""Fit the abstention model: answerable questions vs ones no article answers, from real corpora. Run by hand.

python bench/abstain.py [--squad 1000] [--max-false-abstain 0.02] [--bbc-index /tmp/bbc-index]
                        [--fit squad,realtimeqa,bbc,bbc-near] [--features NAME ...] [--current]

Question sets (rows of evidence features, label 1 = answerable, 0 = no article answers it):
- squad / realtimeqa: SQuAD dev questions asked of the SQuAD paragraphs, RealTimeQA questions asked of their
  gold articles + BBC (answerable); the same questions asked of the other corpus (off-topic). Split in two
  halves at random (seed 0): the first fits, the second reports.
- bbc: ../shared/eval/bbc_qa_dev.jsonl asked of the 2,225 BBC articles: the 150 answerable questions and the
  30 that no article answers (near-topic and off-topic). Split by bench/bbc_split.py (sha256(id) odd = held
  out): only the fit part is fitted on.
- bbc-near: bench/bbc_unanswerable.jsonl, our own near-topic questions the BBC corpus does not answer
  (written for this, each checked against the corpus), split by the same rule.

A logistic regression over the chosen qa.records.Evidence fields is fitted on the fit rows of the --fit
sets, each set weighing the same in total; the threshold is the highest one whose false-abstain rate on
the fitting answerable rows stays under --max-false-abstain. Every held-out row (and every set not fitted
on) reports the rates, with the curve; the seed dev questions too. Prints WEIGHTS / BIAS / ANSWER_MIN for
qa/search/abstain.py. With --current, nothing is fitted: the rates are those of the model in
qa/search/abstain.py. Features are cached in /tmp/newsqa-bench (delete the cache after changing Evidence).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import corpora  # noqa: E402
from bbc_split import DEV as BBC_DEV  # noqa: E402
from bbc_split import part_of  # noqa: E402

from qa import Retriever, SilentReporter  # noqa: E402
from qa.records import Evidence  # noqa: E402
from qa.search import abstain  # noqa: E402

WORK = Path("/tmp/newsqa-bench")
SEED_DEV = ROOT.parent / "shared" / "eval" / "seed_qa_dev.jsonl"
BBC_DOCS = ROOT.parent / "shared" / "data" / "bbc"
BBC_NEAR = ROOT / "bench" / "bbc_unanswerable.jsonl"
NAMES = [f.name for f in fields(Evidence)]
Row = tuple[list[float], int, str, str]  # features, label, group ("squad", "squad->realtimeqa", ...), part


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--squad", type=int, default=1000, help="SQuAD questions sampled")
    parser.add_argument("--max-false-abstain", type=float, default=0.02)
    parser.add_argument("--fit", default="squad,realtimeqa,bbc,bbc-near", help="question sets fitted on")
    parser.add_argument("--features", nargs="+", default=NAMES, choices=NAMES)
    parser.add_argument("--bbc-index", type=Path, default=Path("/tmp/bbc-index"))
    parser.add_argument("--current", action="store_true", help="report the model in qa/search/abstain.py, fit nothing")
    args = parser.parse_args()
    rows = load_rows(args)
    columns = [NAMES.index(name) for name in args.features]
    fitting = set(args.fit.split(","))
    fit = [r for r in rows if set_of(r) in fitting and r[3] == "fit"]
    held = [r for r in rows if r not in fit]
    x = np.array([[r[0][c] for c in columns] for r in fit])
    y = np.array([r[1] for r in fit], dtype=np.float64)
    sizes = {name: sum(set_of(r) == name for r in fit) for name in fitting}
    weights, bias = logistic(x, y, np.array([len(fit) / (len(sizes) * sizes[set_of(r)]) for r in fit]))
    if args.current:
        weights = np.array([abstain.WEIGHTS.get(name, 0.0) for name in args.features])
        bias = abstain.BIAS

    def score(features: list[list[float]]) -> np.ndarray:
        design = np.array([[f[c] for c in columns] for f in features])
        return np.asarray(1 / (1 + np.exp(-(design @ weights + bias))))

    answerable = np.sort(score([r[0] for r in fit if r[1] == 1]))
    threshold = abstain.ANSWER_MIN if args.current else float(answerable[int(args.max_false_abstain * len(answerable))])
    print("WEIGHTS =", {args.features[i]: round(float(w), 4) for i, w in enumerate(weights)})
    print(f"BIAS = {bias:.4f}")
    print(f"ANSWER_MIN = {threshold:.4f}  # false abstain <= {args.max_false_abstain:.0%} on the fitting answerable")
    report("fitted rows", fit, score, threshold)
    report("held-out rows (and sets not fitted on)", held, score, threshold)
    curve(held, score)
    seeds(score, threshold)


def set_of(row: Row) -> str:
    return row[2].split("->")[0]


def load_rows(args: argparse.Namespace) -> list[Row]:
    cache = WORK / f"abstain-rows-{args.squad}.json"
    if cache.exists():
        return [(list(r[0]), int(r[1]), str(r[2]), str(r[3])) for r in json.loads(cache.read_text())]
    rows = collect(args.squad) + collect_bbc(args.bbc_index)
    cache.write_text(json.dumps(rows))
    return rows


def collect(squad_sample: int) -> list[Row]:
    """SQuAD and RealTimeQA: each question against its own corpus (1) and the other corpus (0)."""
    retrievers, questions = {}, {}
    for name, loader in corpora.LOADERS.items():
        records, qs = loader()
        corpora.write_corpus(records, WORK / name / "corpus.jsonl")
        retrievers[name] = Retriever.open(
            docs=WORK / name / "corpus.jsonl", index=WORK / name / "index", reporter=SilentReporter()
        )
        questions[name] = qs
    questions["squad"] = random.Random(0).sample(questions["squad"], min(squad_sample, len(questions["squad"])))
    rows: list[Row] = []
    for own, other in (("squad", "realtimeqa"), ("realtimeqa", "squad")):
        texts = [q["question"] for q in questions[own]]
        halves = random.Random(0)
        for group, retriever, label in ((own, retrievers[own], 1), (f"{own}->{other}", retrievers[other], 0)):
            for feats in features(retriever, texts):
                rows.append((feats, label, group, "fit" if halves.random() < 0.5 else "heldout"))
    return rows


def collect_bbc(index: Path) -> list[Row]:
    """The BBC dev questions (answerable or not) and our own near-topic ones, asked of the BBC corpus."""
    retriever = Retriever.open(docs=BBC_DOCS, index=index, reporter=SilentReporter())
    rows: list[Row] = []
    for group, path in (("bbc", BBC_DEV), ("bbc-near", BBC_NEAR)):
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        found = features(retriever, [q["question"] for q in records])
        for record, feats in zip(records, found, strict=True):
            label = int(bool(record.get("answers")))
            rows.append((feats, label, group if label else f"{group}->none", part_of(record["id"])))
    return rows


def features(retriever: Retriever, questions: list[str]) -> list[list[float]]:
    return [[getattr(r.evidence, name) for name in NAMES] for r in retriever.search_many(questions, k=3)]


def logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray, steps: int = 50) -> tuple[np.ndarray, float]:
    """Weighted logistic regression by Newton's method (a little L2 so it always converges)."""
    design = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(design.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ w))
        gradient = design.T @ (weight * (p - y)) + 1e-3 * w
        hessian = design.T @ (design * (weight * p * (1 - p))[:, None]) + 1e-3 * np.eye(len(w))
        w -= np.linalg.solve(hessian, gradient)
    return w[:-1], float(w[-1])


def report(title: str, rows: list[Row], score, threshold: float) -> None:
    print(f"{title}:")
    for group in sorted({r[2] for r in rows}):
        for part in ("fit", "heldout"):
            picked = [r for r in rows if r[2] == group and r[3] == part]
            if not picked:
                continue
            s = score([r[0] for r in picked])
            label = picked[0][1]
            wrong = (s < threshold) if label == 1 else (s >= threshold)
            word = "answerable, abstained (false abstain)" if label else "unanswerable, answered (false answer)"
            print(f"  {group:<22} {part:<8} {word}: {int(wrong.sum())}/{len(picked)} = {wrong.mean():.3f}")


def curve(rows: list[Row], score) -> None:
    print("threshold curve, held-out BBC dev rows: false abstain (answerable) / abstained (unanswerable)")
    bbc = [r for r in rows if set_of(r) == "bbc" and r[3] == "heldout"]
    s = score([r[0] for r in bbc])
    labels = np.array([r[1] for r in bbc])
    for t in (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        print(f"    {t:.2f}: {float((s[labels == 1] < t).mean()):.3f} / {float((s[labels == 0] < t).mean()):.3f}")


def seeds(score, threshold: float) -> None:
    if not SEED_DEV.exists():
        return
    retriever = Retriever.open(docs=ROOT / "seeds", index=WORK / "seeds" / "index", reporter=SilentReporter())
    dev = [json.loads(line) for line in SEED_DEV.read_text().splitlines() if line.strip()]
    rows: list[Row] = [
        (f, int(bool(q.get("answers"))), "seeds" if q.get("answers") else "seeds->none", "heldout")
        for f, q in zip(features(retriever, [q["question"] for q in dev]), dev, strict=True)
    ]
    report("seed dev questions", rows, score, threshold)


if __name__ == "__main__":
    main()
