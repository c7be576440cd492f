"""The BBC dev questions split once, for good, into a part to fit on and a part to report on. Run by hand.

python bench/bbc_split.py [--dev ../shared/eval/bbc_qa_dev.jsonl] [OUT_DIR]

The rule: a question is **held out** when the SHA-256 of its `id` (UTF-8) is odd as an integer (that is,
the last hex digit of the digest is odd), and goes to **fit** otherwise. It depends on the id alone: not
on the question, its answers, its kind or its order in the file, so a question keeps its side when the
file grows or is reordered, and no one can move a question by editing it. Unanswerable questions
(`"kind": "unanswerable"`, no answers) fall on both sides by the same rule; `split` refuses a file where
either side would get none of them, or none of the answerable ones.

Anything fitted (weights, thresholds, learning-to-rank models) may read `fit` only; every figure for
issue 13 is reported on `heldout` (docs/answers.md). With OUT_DIR, writes OUT_DIR/bbc_qa_fit.jsonl and
OUT_DIR/bbc_qa_heldout.jsonl (the lines exactly as in the dev file, in its order) and prints the counts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from pathlib import Path

DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "bbc_qa_dev.jsonl"
PARTS = ("fit", "heldout")


def part_of(question_id: str) -> str:
    """The part of a question: "heldout" when sha256(id) is odd, else "fit"."""
    return "heldout" if int(hashlib.sha256(question_id.encode("utf-8")).hexdigest(), 16) % 2 else "fit"


def read_lines(dev: Path = DEV) -> list[tuple[str, dict]]:
    """(line as written, its record) for every non-blank line of the dev file."""
    lines = [line for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(line, json.loads(line)) for line in lines]


def split(dev: Path = DEV) -> dict[str, list[tuple[str, dict]]]:
    """{"fit": [...], "heldout": [...]}: the dev file's lines and records, each on its side, in file order."""
    parts: dict[str, list[tuple[str, dict]]] = {part: [] for part in PARTS}
    for line, record in read_lines(dev):
        parts[part_of(str(record["id"]))].append((line, record))
    for part, members in parts.items():
        answerable = sum(bool(record.get("answers")) for _, record in members)
        if not answerable or answerable == len(members):
            raise SystemExit(f"{dev}: the {part} part would lack answerable or unanswerable questions")
    return parts


def questions(part: str | None = None, dev: Path = DEV) -> list[dict]:
    """The records of one part ("fit" or "heldout"), or of the whole file when `part` is None."""
    if part is None:
        return [record for _, record in read_lines(dev)]
    return [record for _, record in split(dev)[part]]


def counts(parts: dict[str, list[tuple[str, dict]]]) -> str:
    """A markdown table of the questions per part and per kind."""
    kinds = sorted({record.get("kind", "-") for members in parts.values() for _, record in members})
    per_part = {part: Counter(record.get("kind", "-") for _, record in members) for part, members in parts.items()}
    rows = ["| kind | " + " | ".join(PARTS) + " | all |", "| --- |" + " --- |" * (len(PARTS) + 1)]
    for kind in [*kinds, "total"]:
        cells = [len(parts[p]) if kind == "total" else per_part[p][kind] for p in PARTS]
        rows.append(f"| {kind} | " + " | ".join(str(c) for c in cells) + f" | {sum(cells)} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, nargs="?", help="folder to write bbc_qa_fit.jsonl and bbc_qa_heldout.jsonl")
    parser.add_argument("--dev", type=Path, default=DEV)
    args = parser.parse_args()
    parts = split(args.dev)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        for part, members in parts.items():
            (args.out / f"bbc_qa_{part}.jsonl").write_text("".join(line + "\n" for line, _ in members), "utf-8")
    print(counts(parts))


if __name__ == "__main__":
    main()
