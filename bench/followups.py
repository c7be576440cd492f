"""Follow-up questions: does the conversation help the second turn of a dialogue? Run by hand.

python bench/followups.py [--k 3] [--mode hybrid] [--dialogues bench/dialogues.jsonl] [--verbose]
python bench/followups.py --dialogues bench/bbc_dialogues.jsonl --docs ../shared/data/bbc --index DIR --split dev
python bench/followups.py ... --set DECAY=0.5 --set MAX_ANSWER=1     # try other settings of qa/conversation/followup.py

Each line of the dialogues file is {"id", "turns": [first, second], "answers": [...], "path"?}, the second
question ambiguous on its own. Turn 1 is searched as the chat does; turn 2 is searched twice: alone, and as
`qa.conversation.followup.resolve` rewrites it from turn 1 (its topic, its answer, its top passages). A turn "hits"
when one of its top-k passages holds an accepted answer (case-insensitive) and, when the line names its gold
article (`path`, relative to --docs), comes from that article or lists it in `also_in`.
`--split dev|heldout` keeps the odd- or even-numbered dialogues (by the number ending the id): tune on dev,
report heldout.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qa.conversation.followup as followup  # noqa: E402
from qa import Retriever  # noqa: E402
from qa.records import Turn  # noqa: E402

DIALOGUES = ROOT / "bench" / "dialogues.jsonl"


def _from_gold(hit, path: str | None) -> bool:
    if path is None:
        return True
    paths = [hit.source.path, *(other.source.path for other in hit.also_in)]
    return any(p == path or p.endswith("/" + path) for p in paths)


def rank_of(result, answers: list[str], path: str | None = None) -> int | None:
    """1-based rank of the first hit holding an accepted answer (from the gold article), None if none does."""
    wanted = [answer.lower() for answer in answers]
    for hit in result.hits:
        if _from_gold(hit, path) and any(answer in hit.text.lower() for answer in wanted):
            return hit.rank
    return None


def _number(dialogue_id: str) -> int:
    found = re.search(r"(\d+)$", dialogue_id)
    return int(found.group(1)) if found else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--mode", default="hybrid", choices=["hybrid", "dense", "bm25"])
    parser.add_argument("--dialogues", type=Path, default=DIALOGUES)
    parser.add_argument("--docs", type=Path, default=ROOT / "seeds")
    parser.add_argument("--index", type=Path, default=None, help="index folder (default: the corpus's own)")
    parser.add_argument("--split", choices=["all", "dev", "heldout"], default="all")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a followup.py setting")
    parser.add_argument("--verbose", "-v", action="store_true", help="print the rewritten queries")
    parser.add_argument("--fast", action="store_true", help="no reader (retrieval alone)")
    parser.add_argument("--topic-bonus", type=float, default=None, help="try another ReaderFit.topic_bonus")
    args = parser.parse_args()
    for setting in args.set:
        name, value = setting.split("=", 1)
        current = getattr(followup, name)
        setattr(followup, name, type(current)(value))
    dialogues = [json.loads(line) for line in args.dialogues.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.split != "all":
        dialogues = [d for d in dialogues if (_number(d["id"]) % 2 == 1) == (args.split == "dev")]
    retriever = Retriever.open(docs=args.docs, index=args.index, reader=not args.fast)

    if args.topic_bonus is not None and retriever._reader_fit is not None:
        from dataclasses import replace

        retriever._reader_fit = replace(retriever._reader_fit, topic_bonus=args.topic_bonus)
    firsts_resolved = [followup.resolve(d["turns"][0], []) for d in dialogues]
    firsts = list(retriever.search_many([d["turns"][0] for d in dialogues], k=args.k, mode=args.mode))
    topics = "topic" in Turn.__dataclass_fields__  # also runs against the version before topics, for comparison
    turns = [
        Turn.of(d["turns"][0], first, r.query, **({"topic": r.topic} if topics else {}))
        for d, first, r in zip(dialogues, firsts, firsts_resolved, strict=True)
    ]
    resolved = [followup.resolve(d["turns"][1], [turn]) for d, turn in zip(dialogues, turns, strict=True)]
    alone = list(retriever.search_many([d["turns"][1] for d in dialogues], k=args.k, mode=args.mode))
    # the topic article (the document turn 1's answer came from) is read first, as the chat does
    with_context = [retriever.search(r.query, k=args.k, mode=args.mode, article=r.article) for r in resolved]

    width = max(len(d["id"]) for d in dialogues)
    print(f"{'dialogue':<{width}}  turn1  alone  context  turn 2")
    totals = {"turn1": [0, 0, 0.0], "alone": [0, 0, 0.0], "context": [0, 0, 0.0]}  # hit@1, hit@k, MRR
    for dialogue, res, first, without, with_ in zip(dialogues, resolved, firsts, alone, with_context, strict=True):
        path = dialogue.get("path")
        ranks = {
            "turn1": rank_of(first, dialogue.get("answers_1", []), path) if dialogue.get("answers_1") else None,
            "alone": rank_of(without, dialogue["answers"], path),
            "context": rank_of(with_, dialogue["answers"], path),
        }
        for name, rank in ranks.items():
            totals[name][0] += rank == 1
            totals[name][1] += rank is not None
            totals[name][2] += 1 / rank if rank else 0.0
        shown = {name: str(rank) if rank else "-" for name, rank in ranks.items()}
        print(
            f"{dialogue['id']:<{width}}  {shown['turn1']:>5}  {shown['alone']:>5}  {shown['context']:>7}  "
            f"{dialogue['turns'][1]}"
        )
        if args.verbose:
            print(f"{'':<{width}}  searched: {res.query}  ({res.reason})")
    n = len(dialogues)
    print()
    print(f"{args.mode}, {n} dialogues ({args.split}), {len(retriever)} passages, settings {args.set or 'default'}")
    print(f"{'turn 2':<14} {'hit@1':>7} {f'hit@{args.k}':>7} {'MRR':>6}")
    rows = [("alone", "alone"), ("context", "with context")]
    if any(d.get("answers_1") for d in dialogues):
        rows.insert(0, ("turn1", "(turn 1)"))
    for name, label in rows:
        at1, atk, mrr = totals[name]
        print(f"{label:<14} {at1:>3}/{n:<3} {atk:>3}/{n:<3} {mrr / n:>6.3f}")


if __name__ == "__main__":
    main()
