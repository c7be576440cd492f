"""The exact answer (`SearchResult.answer`) on the BBC dev questions and the seed dev questions. Run by hand.

python bench/answers.py --index /tmp/bbc-index [--split fit] [--split heldout] [--k 3] [--details]

For the questions of the kinds an exact answer is given for (who, when, where, how-many, how-much; the
BBC file's `kind`, the seed file's from its first words) and, apart, the which / what ones: per kind

- shown: the result has an `answer` (not null);
- correct: among those shown, the answer's text contains an accepted answer or an accepted answer contains
  it (case-insensitive), and the top hit is from the gold article (BBC: its `path`; seeds: one of its
  `sources`);
- in highlight: the top hit is gold and its highlighted sentence holds an accepted answer, the most an
  answer inside that sentence can reach;
- oracle shown / correct: the same picker run on the gold article's first sentence holding an accepted
  answer, as if it had been the top hit's highlight (answered, values read from it alone): how well the
  span is picked when the sentence is right.

The model and index load once; each part is one `search_many` pass. Fit thresholds (qa/search/answer.py)
on `fit` and the seeds only; report `heldout`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bbc_split import DEV, questions  # noqa: E402

from qa import Highlight, Hit, Passage, Retriever, SearchResult, SilentReporter, Source  # noqa: E402
from qa.search.answer import answer_of  # noqa: E402
from qa.search.highlight import question_of  # noqa: E402
from qa.search.values import values_of  # noqa: E402
from qa.text.sentences import line_spans, sentence_spans  # noqa: E402

BBC = ROOT.parent / "shared" / "data" / "bbc"
SEED_DEV = ROOT.parent / "shared" / "eval" / "seed_qa_dev.jsonl"
KINDS = ("who", "when", "where", "how-many", "how-much")
OTHER = ("which", "what")


@dataclass(frozen=True)
class Row:
    kind: str
    shown: bool
    correct: bool
    in_highlight: bool
    oracle_shown: bool
    oracle_correct: bool


def seed_kind(question: str) -> str:
    low = question.lower()
    for kind in ("how many", "how much", "who", "when", "where", "which", "what"):
        if low.startswith(kind):
            return kind.replace(" ", "-")
    return "other"


def holds(text: str, answers: Iterable[str]) -> bool:
    """The answer span matches: it contains an accepted answer, or an accepted answer contains it."""
    low = text.lower()
    return any(a.lower() in low or (low and low in a.lower()) for a in answers)


def is_gold(record: dict, path: str) -> bool:
    if record.get("path"):
        return path.endswith(record["path"])
    return any(Path(path).name.startswith(source) for source in record.get("sources", []))


def oracle(record: dict, docs: Path) -> tuple[bool, bool]:
    """(shown, correct) of the picker on the gold article's first sentence holding an accepted answer."""
    paths = [record["path"]] if record.get("path") else [p.name for p in sorted(docs.iterdir())]
    for name in paths:
        if not record.get("path") and not any(name.startswith(s) for s in record.get("sources", [])):
            continue
        text = (docs / name).read_text(encoding="utf-8-sig", errors="replace")
        for line_start, line_end in line_spans(text):
            for start, end in sentence_spans(text, line_start, line_end):
                if holds_answer(text[start:end], record["answers"]):
                    return picked(record, text, start, end)
    return False, False


def holds_answer(sentence: str, answers: Iterable[str]) -> bool:
    return any(a.lower() in sentence.lower() for a in answers)


def picked(record: dict, text: str, start: int, end: int) -> tuple[bool, bool]:
    sentence = text[start:end]
    passage = Passage("oracle", "gold", start, end, 1, 1, sentence)
    hit = Hit(1, 1.0, passage, Source(record.get("path", ""), None, None, None, None), Highlight(start, end))
    asked = question_of(record["question"])
    answer = answer_of(asked, [hit], values_of(asked, [hit]), True)
    return answer is not None, answer is not None and holds(answer.text, record["answers"])


def row_of(record: dict, kind: str, result: SearchResult, docs: Path) -> Row:
    top = result.hits[0] if result.hits else None
    gold = top is not None and is_gold(record, top.source.path)
    highlight = (top.highlight_text or "") if top is not None else ""
    answer = result.answer
    shown_oracle, correct_oracle = oracle(record, docs)
    return Row(
        kind,
        answer is not None,
        answer is not None and gold and holds(answer.text, record["answers"]),
        gold and holds_answer(highlight, record["answers"]),
        shown_oracle,
        correct_oracle,
    )


def share(count: int, total: int) -> str:
    return f"{count / total:.2f} ({count}/{total})" if total else "-"


def table(name: str, rows: list[Row]) -> None:
    print(f"\n{name}\n")
    print("| kind | n | shown | correct of shown | correct of all | in highlight | oracle shown | oracle correct |")
    print("| --- " * 8 + "|")
    groups = [(kind, [r for r in rows if r.kind == kind]) for kind in (*KINDS, *OTHER)]
    groups += [("**those five**", [r for r in rows if r.kind in KINDS])]
    for kind, chosen in groups:
        if not chosen:
            continue
        shown = [r for r in chosen if r.shown]
        oracle_shown = [r for r in chosen if r.oracle_shown]
        cells = [
            str(len(chosen)),
            share(len(shown), len(chosen)),
            share(sum(r.correct for r in shown), len(shown)),
            share(sum(r.correct for r in chosen), len(chosen)),
            share(sum(r.in_highlight for r in chosen), len(chosen)),
            share(len(oracle_shown), len(chosen)),
            share(sum(r.oracle_correct for r in oracle_shown), len(oracle_shown)),
        ]
        print(f"| {kind} | " + " | ".join(cells) + " |")


def run(retriever: Retriever, records: list[dict], kinds: list[str], docs: Path, k: int, details: bool) -> list[Row]:
    results = retriever.search_many([record["question"] for record in records], k=k)
    rows = []
    for record, kind, result in zip(records, kinds, results, strict=True):
        row = row_of(record, kind, result, docs)
        rows.append(row)
        if details:
            top = result.hits[0] if result.hits else None
            shown = result.answer.text if result.answer else None
            print(
                f"  {record.get('id')} {kind:9} shown={row.shown:d} correct={row.correct:d} hl={row.in_highlight:d} "
                f"oracle={row.oracle_shown:d}/{row.oracle_correct:d} answer={shown!r} accepted={record['answers']}"
                f" | {record['question']}\n      HL: {top.highlight_text if top else ''}",
                file=sys.stderr,
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="the BBC index folder")
    parser.add_argument("--docs", type=Path, default=BBC)
    parser.add_argument("--dev", type=Path, default=DEV)
    parser.add_argument("--seed-dev", type=Path, default=SEED_DEV)
    parser.add_argument("--split", choices=["fit", "heldout"], action="append", help="default: fit, heldout")
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--details", action="store_true", help="one line per question on stderr")
    args = parser.parse_args()
    retriever = Retriever.open(docs=args.docs, index=args.index, reporter=SilentReporter())
    for part in args.split or ["fit", "heldout"]:
        records = [r for r in questions(part, args.dev) if r.get("answers") and r.get("kind") in (*KINDS, *OTHER)]
        rows = run(retriever, records, [r["kind"] for r in records], args.docs, args.k, args.details)
        table(f"BBC dev, {part} (k = {args.k})", rows)
    seeds = Retriever.open(docs=ROOT / "seeds", reporter=SilentReporter())
    lines = [json.loads(line) for line in args.seed_dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = [r for r in lines if r.get("answers") and seed_kind(r["question"]) in (*KINDS, *OTHER)]
    rows = run(seeds, records, [seed_kind(r["question"]) for r in records], ROOT / "seeds", args.k, args.details)
    table(f"seed dev (k = {args.k})", rows)


if __name__ == "__main__":
    main()
