"""Fit the reader's answer-time settings on fit data only, and write them into its card. Run by hand.

python bench/reader_fit.py [--write] [--bbc-index /tmp/bbc-index]

Fit data: the BBC dev file's fit part (bench/bbc_split.py) with the fit part of bench/bbc_unanswerable.jsonl,
over the BBC corpus; and questions of the SQuAD v2.0 dev articles of the fit half (qa.read.data.article_part;
answerable and unanswerable, 300 each, seeded) over a corpus of those articles' paragraphs. Each question is
asked once with the reader reading the top MAX_DEPTH candidates; the candidates, the readings and the
retrieval evidence are cached per reader file (/tmp/newsqa-bench/reader-*.json) and everything is fitted
from them:

- depth (how many candidates are read) and the rerank weights: logistic regression of "this candidate is
  from the gold article and holds an answer" on (fused score, span margin, answer logit, span score);
  the depth is the smallest whose top-1 on the fit questions is within 0.01 of the best;
- abstention: logistic regression of "answerable" on the top candidate's reranked probability, its margin
  and answer logit, and the retrieval evidence; the threshold is the highest that abstains on at most 3%
  of the answerable fit questions;
- exact_min / value_min: the lowest span margin at which the top candidate's span is right (as
  bench/answers.py grades it) for at least 85% of the fit questions shown.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import corpora  # noqa: E402
from bbc_split import part_of, questions  # noqa: E402

from qa import Retriever, SilentReporter  # noqa: E402
from qa.read.data import FIT, HELD, load_squad  # noqa: E402
from qa.read.files import CARD, WEIGHTS_DIR, sha256_of  # noqa: E402
from qa.read.reader import card  # noqa: E402
from qa.search.evaluate import _ends_with  # noqa: E402
from qa.search.reading import ABSTAIN_FEATURES, RERANK_FEATURES, ReaderFit, abstain_features  # noqa: E402

MAX_DEPTH = 20
DEPTHS = (3, 5, 8, 10, 15, 20)
WORK = Path("/tmp/newsqa-bench")
BBC = ROOT.parent / "shared" / "data" / "bbc"
V2 = ROOT.parent / "shared" / "data" / "dev-v2.0.json"
NEAR = ROOT / "bench" / "bbc_unanswerable.jsonl"


def bbc_questions(part: str) -> list[dict[str, Any]]:
    near = [json.loads(line) for line in NEAR.read_text().splitlines() if line.strip()]
    return questions("heldout" if part == HELD else "fit") + [
        q for q in near if part_of(q["id"]) == ("heldout" if part == HELD else "fit")
    ]


def v2_corpus(part: str, per_kind: int, seed: int = 0) -> tuple[Path, list[dict[str, Any]]]:
    """A .jsonl corpus of the part's SQuAD v2.0 dev paragraphs, and `per_kind` answerable and unanswerable
    questions of it (gold: the question's paragraph)."""
    items = load_squad(f"{V2}@{part}")
    ids = {c: f"v2-{n}" for n, c in enumerate(dict.fromkeys(it.context for it in items))}
    records = [{"id": i, "text": c} for c, i in ids.items()]
    path = WORK / f"v2-{part}" / "corpus.jsonl"
    corpora.write_corpus(records, path)
    rng = random.Random(seed)
    chosen = rng.sample([it for it in items if not it.impossible], per_kind) + rng.sample(
        [it for it in items if it.impossible], per_kind
    )
    qs = [
        {
            "id": it.qid,
            "question": it.question,
            "answers": sorted({it.context[a:b] for a, b in it.answers}),
            "gold_id": ids[it.context],
        }
        for it in chosen
    ]
    return path, qs


# what the reader is run with while collecting: read the top MAX_DEPTH by the fused score, keep that order
COLLECTING = {
    "depth": MAX_DEPTH,
    "rerank": [1.0, 0.0, 0.0, 0.0, 0.0],
    "abstain": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    "answer_min": 0.0,
    "exact_min": 1e4,
    "value_min": 1e4,
}


def opened(docs: Path, index: Path) -> Retriever:
    """A retriever over `docs` reading with the shipped weights and the collecting settings (the card's own
    may have been fitted for other weights)."""
    from qa.embed.reference import bundled_model_path
    from qa.read.reader import shipped_reader

    retriever = Retriever.open(docs, index, reporter=SilentReporter(), reader=False)
    retriever._reader = shipped_reader(str(bundled_model_path()))
    retriever._reader_fit = ReaderFit.of(COLLECTING)
    return retriever


def collect(retriever: Retriever, qs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per question: every read candidate (fused score, reading, gold or not, span right or not) and the
    retrieval evidence."""
    fit = retriever._reader_fit
    assert fit is not None
    captured: dict[str, Any] = {}
    import qa.search.reading as reading

    real = reading._read

    def spy(reader: Any, fit: Any, index: Any, question: str, fused: dict[int, float], article: Any = None) -> Any:
        readings, preferred = real(reader, fit, index, question, fused, article)
        captured["rows"] = [(row, fused[row], r, index.passage(row)) for row, r in readings.items()]
        return readings, preferred

    reading._read = spy  # the reader's pass (qa/search/reading.py), read candidate by candidate
    out = []
    for q in qs:
        result = retriever.search(q["question"], k=3)
        sources = retriever._current().sources
        answers = [a.lower() for a in q.get("answers", [])]
        cands = []
        for _row, fused, r, passage in captured.get("rows", []):
            source = sources[passage.doc_key]
            text = passage.text.lower()
            from_gold = source.id == q["gold_id"] if "gold_id" in q else _ends_with(source.path, q.get("path", ""))
            span = passage.text[r.span_start : r.span_end].lower() if r.span_start >= 0 else ""
            cands.append(
                {
                    "fused": fused,
                    "margin": r.margin,
                    "answer_logit": r.answer_logit,
                    "span_score": r.span_score,
                    "gold": bool(answers) and from_gold and any(a in text for a in answers),
                    "span_ok": bool(span) and from_gold and any(a in span or span in a for a in answers),
                }
            )
        ev = result.evidence
        out.append(
            {
                "id": q["id"],
                "kind": q.get("kind"),
                "answerable": bool(answers),
                "cands": cands,
                "passage_cosine": ev.passage_cosine if ev else 0.0,
                "coverage": ev.coverage if ev else 0.0,
            }
        )
    return out


def cached(name: str, make: Any) -> list[dict[str, Any]]:
    digest = sha256_of(WEIGHTS_DIR / card()["file"])[:12]
    path = WORK / f"reader-{name}-{digest}.json"
    if path.exists():
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    rows = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows))
    return rows


def sets(part: str, bbc_index: Path, per_kind: int) -> dict[str, list[dict[str, Any]]]:
    def bbc() -> list[dict[str, Any]]:
        return collect(opened(BBC, bbc_index), bbc_questions(part))

    def v2() -> list[dict[str, Any]]:
        corpus, qs = v2_corpus(part, per_kind)
        return collect(opened(corpus, corpus.parent / "index"), qs)

    return {"bbc": cached(f"bbc-{part}", bbc), "v2": cached(f"v2-{part}-{per_kind}", v2)}


def logistic(x: np.ndarray, y: np.ndarray, balanced: bool = False) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, class_weight="balanced" if balanced else None, max_iter=1000)
    model.fit(x, y)
    return np.concatenate([model.coef_[0], model.intercept_])


def prob(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(x @ w[:-1] + w[-1])))


def rerank_matrix(rows: list[dict[str, Any]], depth: int) -> tuple[np.ndarray, np.ndarray]:
    feats = [[c[f] for f in RERANK_FEATURES] for r in rows if r["answerable"] for c in r["cands"][:depth]]
    labels = [c["gold"] for r in rows if r["answerable"] for c in r["cands"][:depth]]
    return np.array(feats, float), np.array(labels, int)


def top_of(r: dict[str, Any], w: np.ndarray, depth: int) -> tuple[int, float]:
    """(index of the best candidate after reranking the first `depth`, its probability)."""
    cands = r["cands"][:depth]
    if not cands:
        return -1, 0.0
    p = prob(w, np.array([[c[f] for f in RERANK_FEATURES] for c in cands], float))
    best = int(np.argmax(p))
    return best, float(p[best])


def hit1(rows: list[dict[str, Any]], w: np.ndarray | None, depth: int) -> float:
    ans = [r for r in rows if r["answerable"]]
    good = 0
    for r in ans:
        if not r["cands"]:
            continue
        best = top_of(r, w, depth)[0] if w is not None else 0
        good += r["cands"][best]["gold"]
    return good / max(1, len(ans))


def abstain_matrix(rows: list[dict[str, Any]], w: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    feats, labels = [], []
    for r in rows:
        best, p = top_of(r, w, depth)
        c = r["cands"][best] if best >= 0 else None
        reading = None if c is None else _Reading(c["margin"], c["answer_logit"])
        feats.append(abstain_features(p, reading, r["passage_cosine"], r["coverage"]))  # type: ignore[arg-type]
        labels.append(int(r["answerable"]))
    return np.array(feats, float), np.array(labels, int)


class _Reading:
    def __init__(self, margin: float, answer_logit: float) -> None:
        self.margin, self.answer_logit = margin, answer_logit


def _quantile(answerable: np.ndarray) -> float:
    """The threshold below which 3% of these answerable questions' probabilities fall."""
    ordered = np.sort(answerable)
    return float(ordered[int(np.floor(0.03 * len(ordered)))]) - 1e-9


def fit_all(rows: list[dict[str, Any]], bbc_rows: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    report = []
    curve = {}
    for depth in DEPTHS:
        x, y = rerank_matrix(rows, depth)
        w = logistic(x, y)
        curve[depth] = (hit1(bbc_rows, w, depth), hit1(rows, w, depth), w)
        report.append(f"depth {depth:>2}: BBC fit top-1 {curve[depth][0]:.3f}, all fit top-1 {curve[depth][1]:.3f}")
    report.append(f"retrieval alone: BBC fit top-1 {hit1(bbc_rows, None, 1):.3f}, all fit {hit1(rows, None, 1):.3f}")
    best = max(v[1] for v in curve.values())
    depth = min(d for d, v in curve.items() if v[1] >= best - 0.01)
    w = curve[depth][2]
    xa, ya = abstain_matrix(rows, w, depth)
    wa = logistic(xa, ya, balanced=True)
    pa = prob(wa, xa)
    # at most 3% of the answerable abstained on: on all the fit questions and on the BBC ones alone (the reader
    # is surer of itself on SQuAD than on news)
    xb, yb = abstain_matrix(bbc_rows, w, depth)
    answer_min = min(_quantile(pa[ya == 1]), _quantile(prob(wa, xb)[yb == 1]))
    caught = float(np.mean(pa[ya == 0] < answer_min))
    report.append(f"abstention on fit: {caught:.3f} of unanswerable abstained, threshold {answer_min:.4f}")
    shown = []
    for r in rows:
        if not r["answerable"]:
            continue
        best, _ = top_of(r, w, depth)
        if best >= 0:
            shown.append((r["cands"][best]["margin"], r["cands"][best]["span_ok"]))
    shown.sort(reverse=True)
    exact_min, right = (shown[0][0] + 1.0 if shown else 1e4), 0  # none shown unless 85% right is reached
    for n, (margin, ok) in enumerate(shown, start=1):
        right += ok
        if right / n >= 0.85:
            exact_min = margin
    covered = sum(m >= exact_min for m, _ in shown)
    precision = sum(ok for m, ok in shown if m >= exact_min) / max(1, covered)
    report.append(
        f"exact answer on fit: margin >= {exact_min:.3f}: shown {covered}/{len(shown)}, right {precision:.3f}"
    )
    block = {
        "depth": depth,
        "rerank": [round(float(v), 6) for v in w],
        "abstain": [round(float(v), 6) for v in wa],
        "answer_min": round(answer_min, 6),
        "exact_min": round(exact_min, 6),
        "value_min": round(exact_min, 6),
        "features": {"rerank": list(RERANK_FEATURES), "abstain": list(ABSTAIN_FEATURES)},
        "weights_sha256": sha256_of(WEIGHTS_DIR / card()["file"]),
        "fitted_on": "bench/reader_fit.py: BBC dev fit part + bbc_unanswerable fit part; SQuAD v2.0 dev fit articles",
    }
    return block, report


VALUE_GRID = ()  # value_min = exact_min: a figure is a value only when the reader is as sure as for an answer


def fit_value_min(block: dict[str, Any], bbc_index: Path) -> tuple[float, list[str]]:
    """The lowest span margin (of VALUE_GRID, at most exact_min) at which no answerable BBC fit question gets a
    "disagree" panel (each has one gold article, so one is false), that margin and every higher one."""
    from dataclasses import replace

    retriever = opened(BBC, bbc_index)
    fit = ReaderFit.of(block)
    qs = [q for q in bbc_questions(FIT) if q.get("answers")]
    chosen, report = float(block["exact_min"]), []
    for margin in [m for m in VALUE_GRID if m < fit.exact_min]:
        retriever._reader_fit = replace(fit, value_min=margin)
        results = list(retriever.search_many([q["question"] for q in qs], k=3))
        panels, shown = sum(r.disagree for r in results), sum(bool(r.values) for r in results)
        report.append(f"value_min {margin}: {panels} false panels, values shown for {shown}/{len(qs)}")
        if panels:
            break
        chosen = margin
    return chosen, report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bbc-index", type=Path, default=Path("/tmp/bbc-index"))
    parser.add_argument("--per-kind", type=int, default=300)
    parser.add_argument("--write", action="store_true", help="write the fitted block into the card")
    args = parser.parse_args()
    fit_sets = sets(FIT, args.bbc_index, args.per_kind)
    rows = fit_sets["bbc"] + fit_sets["v2"]
    block, report = fit_all(rows, fit_sets["bbc"])
    block["value_min"], more = fit_value_min(block, args.bbc_index)
    print("\n".join(report + more))
    print(json.dumps({k: v for k, v in block.items() if k != "features"}))
    ReaderFit.of(block)  # loads as the retriever will
    if args.write:
        info = json.loads(CARD.read_text())
        info["fit"] = block
        CARD.write_text(json.dumps(info, indent=2) + "\n")
        print(f"written to {CARD}")


if __name__ == "__main__":
    main()
