"""BBC dev questions (../shared/eval/bbc_qa_dev.jsonl) per retrieval mode, on all of them and the held-out part.

python bench/bbc_dev.py --index /tmp/bbc-index [--split heldout] [--k 5] [--modes hybrid dense bm25] [--details]

Run by hand (the real model, the 2,225-article BBC index; never in CI). The model and index load once;
each mode answers every question in one `search_many` pass, scored by `qa.evaluate` (a hit counts only
from the question's gold article, or listing it in `also_in`, and holding an accepted answer). The
parts are those of bench/bbc_split.py. Columns, over the answerable questions of a part unless said:

- top-1 gold: the top hit is from the gold article and holds an answer (`hit@1`); top-1 any: the top hit
  holds an answer, whatever its article; top-K gold (`hit@K`); MRR (over the top K);
- in highlight: the top hit is gold and its highlighted sentence holds an answer;
- false abstain: answered false; abstain unans.: answered false on the unanswerable ones;
- false banners: answerable questions whose result has `disagree: true` (two or more values) — every
  such question has one gold article, so a banner on it is false. Also counted at k=3, the default.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bbc_split import DEV, part_of, questions  # noqa: E402

from qa import QuestionScore, Retriever, SearchResult, SilentReporter, evaluate  # noqa: E402

BBC = ROOT.parent / "shared" / "data" / "bbc"
BANNER_K = 3  # what a user sees by default


class Recording:
    """The retriever for `evaluate`, keeping the results it returned (to read `disagree` from them)."""

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever
        self.results: list[SearchResult] = []

    def search_many(self, asked: Sequence[str], **options: Any) -> list[SearchResult]:
        self.results = list(self.retriever.search_many(asked, **options))
        return self.results


def share(count: int, total: int) -> str:
    return f"{count / total:.3f} ({count}/{total})" if total else "-"


def row(mode: str, part: str, k: int, scored: list[tuple[dict, QuestionScore, SearchResult]], banners3: int) -> str:
    answerable = [(q, s, r) for q, s, r in scored if s.answerable]
    other = [s for _, s, _ in scored if not s.answerable]
    n = len(answerable)
    cells = [
        share(sum(s.rank == 1 for _, s, _ in answerable), n),
        share(sum(s.rank_any_article == 1 for _, s, _ in answerable), n),
        share(sum(s.rank is not None for _, s, _ in answerable), n),
        f"{sum(1 / s.rank for _, s, _ in answerable if s.rank) / n:.3f}" if n else "-",
        share(sum(s.in_highlight for _, s, _ in answerable), n),
        share(sum(not s.answered for _, s, _ in answerable), n),
        share(sum(not s.answered for s in other), len(other)),
        f"{sum(r.disagree for _, _, r in answerable)} / {banners3}",
    ]
    return f"| {mode} | {part} ({n}+{len(other)}) | " + " | ".join(cells) + " |"


def banners_at(retriever: Retriever, records: list[dict], mode: str, k: int) -> dict[str, bool]:
    """id -> disagree, for the answerable questions, at `k`."""
    answerable = [record for record in records if record.get("answers")]
    results = retriever.search_many([record["question"] for record in answerable], k=k, mode=mode)
    return {record["id"]: result.disagree for record, result in zip(answerable, results, strict=True)}


def details(scored: list[tuple[dict, QuestionScore, SearchResult]]) -> None:
    for record, score, result in scored:
        values = ", ".join(value.value for value in result.values)
        print(
            f"  {record['id']} {part_of(record['id']):7} {record['kind']:12} rank={score.rank or '-'} "
            f"any={score.rank_any_article or '-'} answered={score.answered} "
            f"{'BANNER ' + values if result.disagree else ''}  {record['question']}",
            file=sys.stderr,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="the BBC index folder (built if missing)")
    parser.add_argument("--docs", type=Path, default=BBC)
    parser.add_argument("--dev", type=Path, default=DEV)
    parser.add_argument("--split", choices=["all", "fit", "heldout"], action="append", help="default: all, heldout")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--modes", nargs="+", default=["hybrid", "dense", "bm25"])
    parser.add_argument("--details", action="store_true", help="one line per question on stderr")
    args = parser.parse_args()
    parts = args.split or ["all", "heldout"]
    records = questions(None, args.dev)
    retriever = Retriever.open(docs=args.docs, index=args.index, reporter=SilentReporter())
    print(f"{len(retriever)} passages; {args.dev.name}; k={args.k}; banners at k={args.k} / k={BANNER_K}\n")
    print(
        f"| mode | part (answerable+not) | top-1 gold | top-1 any | top-{args.k} gold | MRR | in highlight "
        "| false abstain | abstain unans. | false banners |"
    )
    print("| --- " * 10 + "|")
    for mode in args.modes:
        recording = Recording(retriever)
        began = time.perf_counter()
        report = evaluate(recording, records, k=args.k, mode=mode)  # type: ignore[arg-type]
        took = time.perf_counter() - began
        scored = list(zip(records, report.questions, recording.results, strict=True))
        at3 = banners_at(retriever, records, mode, BANNER_K)
        for part in parts:
            chosen = [item for item in scored if part == "all" or part_of(item[0]["id"]) == part]
            print(row(mode, part, args.k, chosen, sum(at3[q["id"]] for q, s, _ in chosen if s.answerable)))
        print(f"  ({mode}: {1000 * took / len(records):.0f} ms/question)", file=sys.stderr)
        if args.details:
            details(scored)


if __name__ == "__main__":
    main()
