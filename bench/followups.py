"""Follow-up questions: does the conversation help the second turn of a dialogue? Run by hand.

python bench/followups.py [--k 3] [--mode hybrid] [--dialogues bench/dialogues.jsonl] [--verbose]

Each line of the dialogues file is {"id", "turns": [first, second], "answers": [...]}, the second question
ambiguous on its own. Turn 2 is searched twice: alone, and as `qa.search.followup.resolve` rewrites it from
turn 1 and turn 1's top passages (as the chat REPL does). A turn "hits" when one of the accepted answers
(case-insensitive) is in one of its top-k passages. Uses the real model on the seeds and their default index.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import Retriever  # noqa: E402
from qa.records import Turn  # noqa: E402
from qa.search.followup import resolve  # noqa: E402

DIALOGUES = ROOT / "bench" / "dialogues.jsonl"


def rank_of(result, answers: list[str]) -> int | None:
    """1-based rank of the first hit holding an accepted answer, None if none does."""
    wanted = [answer.lower() for answer in answers]
    for hit in result.hits:
        if any(answer in hit.text.lower() for answer in wanted):
            return hit.rank
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--mode", default="hybrid", choices=["hybrid", "dense", "bm25"])
    parser.add_argument("--dialogues", type=Path, default=DIALOGUES)
    parser.add_argument("--docs", type=Path, default=ROOT / "seeds")
    parser.add_argument("--index", type=Path, default=None, help="index folder (default: the corpus's own)")
    parser.add_argument("--verbose", "-v", action="store_true", help="print the rewritten queries")
    args = parser.parse_args()
    dialogues = [json.loads(line) for line in args.dialogues.read_text(encoding="utf-8").splitlines() if line.strip()]
    retriever = Retriever.open(docs=args.docs, index=args.index)

    firsts = list(retriever.search_many([d["turns"][0] for d in dialogues], k=args.k, mode=args.mode))
    resolved = [
        resolve(d["turns"][1], [Turn.of(d["turns"][0], first)]) for d, first in zip(dialogues, firsts, strict=True)
    ]
    alone = list(retriever.search_many([d["turns"][1] for d in dialogues], k=args.k, mode=args.mode))
    with_context = list(retriever.search_many([r.query for r in resolved], k=args.k, mode=args.mode))

    width = max(len(d["id"]) for d in dialogues)
    print(f"{'dialogue':<{width}}  alone  context  turn 2")
    totals = {"alone": [0, 0, 0.0], "context": [0, 0, 0.0]}  # hit@1, hit@k, MRR
    for dialogue, res, without, with_ in zip(dialogues, resolved, alone, with_context, strict=True):
        ranks = {"alone": rank_of(without, dialogue["answers"]), "context": rank_of(with_, dialogue["answers"])}
        for name, rank in ranks.items():
            totals[name][0] += rank == 1
            totals[name][1] += rank is not None
            totals[name][2] += 1 / rank if rank else 0.0
        shown = {name: str(rank) if rank else "-" for name, rank in ranks.items()}
        print(f"{dialogue['id']:<{width}}  {shown['alone']:>5}  {shown['context']:>7}  {dialogue['turns'][1]}")
        if args.verbose:
            print(f"{'':<{width}}  searched: {res.query}  ({res.reason})")
    n = len(dialogues)
    print()
    print(f"{args.mode}, {n} dialogues, {len(retriever)} passages")
    print(f"{'turn 2':<14} {'hit@1':>7} {f'hit@{args.k}':>7} {'MRR':>6}")
    for name, label in (("alone", "alone"), ("context", "with context")):
        at1, atk, mrr = totals[name]
        print(f"{label:<14} {at1:>3}/{n:<3} {atk:>3}/{n:<3} {mrr / n:>6.3f}")


if __name__ == "__main__":
    main()
