"""Fit the abstention model: answerable questions vs off-topic ones, from real corpora. Run by hand.

python bench/abstain.py [--squad 1000] [--max-false-abstain 0.05]

Answerable: SQuAD dev questions asked of the SQuAD paragraphs, RealTimeQA questions asked of their gold
articles + BBC. Off-topic: the same questions asked of the other corpus (Wikipedia paragraphs do not
answer 2022 news quizzes, and news does not answer questions about Wikipedia paragraphs). Indexes are
the ones bench/retrieval.py keeps in /tmp/newsqa-bench. Half of the questions fit a logistic
regression over qa.search.abstain.Evidence; the threshold is the highest one whose false-abstain rate on the
fitting half stays under --max-false-abstain; the other half and the seed dev questions report the rates.
Prints the WEIGHTS / BIAS / ANSWER_MIN to put in qa/search/abstain.py.
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

from qa import Retriever  # noqa: E402
from qa.records import Evidence  # noqa: E402

WORK = Path("/tmp/newsqa-bench")
DEV = ROOT.parent / "shared" / "eval" / "seed_qa_dev.jsonl"
NAMES = [f.name for f in fields(Evidence)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--squad", type=int, default=1000, help="SQuAD questions sampled")
    parser.add_argument("--max-false-abstain", type=float, default=0.05)
    parser.add_argument("--fit", default="squad,realtimeqa", help="question sets the model is fitted on")
    args = parser.parse_args()
    cache = WORK / f"abstain-features-{args.squad}.json"
    if cache.exists():
        rows = [tuple(row) for row in json.loads(cache.read_text())]
    else:
        rows = collect(args.squad)
        cache.write_text(json.dumps(rows))
    rng = random.Random(0)
    rng.shuffle(rows)
    fitting = set(args.fit.split(","))
    rows = [r for r in rows if r[2].split("->")[0] in fitting] + [r for r in rows if r[2].split("->")[0] not in fitting]
    fit_rows = [r for r in rows if r[2].split("->")[0] in fitting]
    half = len(fit_rows) // 2
    fit, held = fit_rows[:half], fit_rows[half:] + [r for r in rows if r[2].split("->")[0] not in fitting]
    x = np.array([r[0] for r in fit])
    y = np.array([r[1] for r in fit], dtype=np.float64)
    weights, bias = logistic(x, y)
    score = lambda feats: 1 / (1 + np.exp(-(np.asarray(feats) @ weights + bias)))  # noqa: E731
    fit_scores = score(x)
    answerable = np.sort(fit_scores[y == 1])
    threshold = float(answerable[int(args.max_false_abstain * len(answerable))]) if len(answerable) else 0.5
    print(
        "weights:", {n: round(float(w), 4) for n, w in zip(NAMES, weights, strict=True)}, "bias:", round(float(bias), 4)
    )
    print(f"ANSWER_MIN = {threshold:.4f}  # false-abstain <= {args.max_false_abstain:.0%} on the fitting half)")
    report("held-out half (and sets not fitted on)", held, score, threshold)
    print("threshold curve on the held-out rows: false-abstain (answerable) / false-answer (off-topic)")
    held_scores = score([r[0] for r in held])
    held_labels = np.array([r[1] for r in held])
    for t in (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6):
        fa = float((held_scores[held_labels == 1] < t).mean())
        fans = float((held_scores[held_labels == 0] >= t).mean())
        print(f"    {t:.2f}: {fa:.3f} / {fans:.3f}")
    if DEV.exists():
        seeds = Retriever.open(docs=ROOT / "seeds")
        dev = [json.loads(line) for line in DEV.read_text().splitlines() if line.strip()]
        labels = [int(bool(q.get("answers"))) for q in dev]
        dev_rows = [
            (f, label, "seeds") for f, label in zip(features(seeds, [q["question"] for q in dev]), labels, strict=True)
        ]
        report("seed dev questions", dev_rows, score, threshold)
        for q, row in zip(dev, dev_rows, strict=True):
            print(f"    {q['id']} label={row[1]} confidence={float(score(row[0])):.3f}  {q['question']}")


def collect(squad_sample: int) -> list:
    """(features, label, set) rows: each question against its own corpus (1) and the other corpus (0)."""
    retrievers, questions = {}, {}
    for name, loader in corpora.LOADERS.items():
        records, qs = loader()
        corpora.write_corpus(records, WORK / name / "corpus.jsonl")
        retrievers[name] = Retriever.open(docs=WORK / name / "corpus.jsonl", index=WORK / name / "index")
        questions[name] = qs
    questions["squad"] = random.Random(0).sample(questions["squad"], min(squad_sample, len(questions["squad"])))
    rows = []
    for own, other in (("squad", "realtimeqa"), ("realtimeqa", "squad")):
        texts = [q["question"] for q in questions[own]]
        rows.extend((f, 1, own) for f in features(retrievers[own], texts))
        rows.extend((f, 0, f"{own}->{other}") for f in features(retrievers[other], texts))
    return rows


def features(retriever: Retriever, questions: list[str]) -> list[list[float]]:
    return [[getattr(r.evidence, name) for name in NAMES] for r in retriever.search_many(questions, k=3)]


def logistic(x: np.ndarray, y: np.ndarray, steps: int = 50) -> tuple[np.ndarray, float]:
    """Logistic regression by Newton's method (a little L2 so it always converges)."""
    design = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(design.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ w))
        gradient = design.T @ (p - y) + 1e-3 * w
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + 1e-3 * np.eye(len(w))
        w -= np.linalg.solve(hessian, gradient)
    return w[:-1], float(w[-1])


def report(title: str, rows: list, score, threshold: float) -> None:
    print(f"{title}:")
    groups = sorted({r[2] for r in rows})
    for group in groups:
        picked = [r for r in rows if r[2] == group]
        s = score([r[0] for r in picked])
        labels = np.array([r[1] for r in picked])
        for label, word in ((1, "answerable, abstained (false abstain)"), (0, "off-topic, answered (false answer)")):
            mask = labels == label
            if mask.any():
                wrong = (s[mask] < threshold) if label == 1 else (s[mask] >= threshold)
                print(f"  {group:<22} {word}: {int(wrong.sum())}/{int(mask.sum())} = {wrong.mean():.3f}")


if __name__ == "__main__":
    main()
