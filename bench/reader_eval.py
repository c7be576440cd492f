"""The reader against retrieval alone, on held-out data, in one command. Run by hand.

python bench/reader_eval.py [--bbc-index /tmp/bbc-index] [--squad-limit 0] [--sets bbc v2 squad realtimeqa seeds]

Systems: `hybrid` (today's ranking: BM25 + dense fused, `--fast`), `bm25` and `dense` (`--fast`, one
retriever each), and `reader` (hybrid candidates read by the shipped reader: the default). Sets, none of
them fitted on (bench/reader_fit.py fits on the fit parts only):

- bbc: the BBC dev file's held-out part (bench/bbc_split.py) plus the held-out part of
  bench/bbc_unanswerable.jsonl, over the 2,225 BBC articles: top-1 / top-5 gold (from the gold article and
  holding an answer), answer in the top highlight, false abstain, unanswerable abstained, false
  "disagree" panels at k=3, and the exact answer (shown / right, as bench/answers.py grades) for the
  who / when / where / how-many / how-much questions;
- v2: 300 answerable and 300 unanswerable questions of the SQuAD v2.0 dev articles of the held half
  (qa.read.data.article_part), over those articles' paragraphs: top-1, abstention;
- squad: SQuAD v1.1 dev over its 2,067 paragraphs: recall@1 (bench/retrieval.py), on all questions and on
  the articles of the held half alone (the fit half's questions are v2.0 dev questions the reader saw);
- realtimeqa: recall@1 and answer in highlight (bench/retrieval.py);
- seeds: the seed dev questions (../shared/eval/seed_qa_dev.jsonl): top-1 holding an answer.
Prints markdown tables and ms per question.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import corpora  # noqa: E402
from reader_fit import BBC, WORK, bbc_questions, v2_corpus  # noqa: E402
from retrieval import contains, success  # noqa: E402

from qa import Retriever, SearchResult, SilentReporter  # noqa: E402
from qa.read.data import HELD, article_part  # noqa: E402
from qa.search.evaluate import _ends_with  # noqa: E402

EXACT_KINDS = ("who", "when", "where", "how-many", "how-much")
SEEDS_DEV = ROOT.parent / "shared" / "eval" / "seed_qa_dev.jsonl"
SYSTEMS = (("hybrid", "hybrid", False), ("bm25", "bm25", False), ("dense", "dense", False), ("reader", "hybrid", True))


def share(n: int, d: int) -> str:
    return f"{n / d:.3f} ({n}/{d})" if d else "-"


def retrievers(docs: Path, index: Path) -> dict[bool, Retriever]:
    return {
        read: Retriever.open(docs=docs, index=index, reporter=SilentReporter(), reader=read) for read in (False, True)
    }


def run(
    retriever: Retriever, qs: list[dict[str, Any]], k: int, mode: str, **kw: Any
) -> tuple[list[SearchResult], float]:
    began = time.perf_counter()
    results = list(retriever.search_many([q["question"] for q in qs], k=k, mode=mode, **kw))
    return results, 1000 * (time.perf_counter() - began) / max(1, len(qs))


def gold_rank(q: dict[str, Any], result: SearchResult, from_gold: Any) -> int | None:
    answers = [a.lower() for a in q.get("answers", [])]
    for n, hit in enumerate(result.hits, start=1):
        if from_gold(q, hit) and any(a in hit.text.lower() for a in answers):
            return n
    return None


def bbc_gold(q: dict[str, Any], hit: Any) -> bool:
    return any(_ends_with(s.path, q["path"]) for s in [hit.source, *(c.source for c in hit.also_in)])


def exact_right(q: dict[str, Any], result: SearchResult) -> bool:
    if result.answer is None or not result.hits or not bbc_gold(q, result.hits[0]):
        return False
    said = result.answer.text.lower()
    return any(a.lower() in said or said in a.lower() for a in q["answers"])


def bbc(args: argparse.Namespace) -> None:
    qs = bbc_questions(HELD)
    ans = [q for q in qs if q.get("answers")]
    unans = [q for q in qs if not q.get("answers")]
    exact = [q for q in ans if q.get("kind") in EXACT_KINDS]
    opened = retrievers(BBC, args.bbc_index)
    print(f"\nBBC dev held-out: {len(ans)} answerable, {len(unans)} unanswerable (dev file and near-topic file)\n")
    print(
        "| system | top-1 gold | top-5 gold | in highlight | false abstain | unanswerable abstained "
        "| false panels (k=3) | exact shown | exact right | ms/q |"
    )
    print("|---" * 10 + "|")
    for name, mode, read in SYSTEMS:
        r = opened[read]
        res5, ms = run(r, qs, 5, mode)
        res3, _ = run(r, ans, 3, mode)
        by_id = dict(zip((q["id"] for q in qs), res5, strict=True))
        ranks = [gold_rank(q, by_id[q["id"]], bbc_gold) for q in ans]
        top = [by_id[q["id"]] for q in ans]
        highlighted = sum(
            rank == 1 and contains(res.hits[0].highlight_text or "", q["answers"])
            for q, rank, res in zip(ans, ranks, top, strict=True)
        )
        shown = [q for q in exact if by_id[q["id"]].answer is not None]
        right = sum(exact_right(q, by_id[q["id"]]) for q in shown)
        cells = [
            share(sum(x == 1 for x in ranks), len(ans)),
            share(sum(x is not None for x in ranks), len(ans)),
            share(highlighted, len(ans)),
            share(sum(not res.answered for res in top), len(ans)),
            share(sum(not by_id[q["id"]].answered for q in unans), len(unans)),
            str(sum(res.disagree for res in res3)),
            share(len(shown), len(exact)),
            share(right, len(shown)),
            f"{ms:.0f}",
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")


def v2(args: argparse.Namespace) -> None:
    corpus, qs = v2_corpus(HELD, args.per_kind)
    opened = retrievers(corpus, corpus.parent / "index")
    ans = [q for q in qs if q["answers"]]
    unans = [q for q in qs if not q["answers"]]
    print(f"\nSQuAD v2.0 dev, held-out articles: {len(ans)} answerable, {len(unans)} unanswerable\n")
    print("| system | top-1 | false abstain | unanswerable abstained | ms/q |")
    print("|---" * 5 + "|")
    for name, mode, read in SYSTEMS:
        res, ms = run(opened[read], qs, 3, mode)
        by_id = dict(zip((q["id"] for q in qs), res, strict=True))
        ranks = [gold_rank(q, by_id[q["id"]], lambda q, h: h.source.id == q["gold_id"]) for q in ans]
        cells = [
            share(sum(x == 1 for x in ranks), len(ans)),
            share(sum(not by_id[q["id"]].answered for q in ans), len(ans)),
            share(sum(not by_id[q["id"]].answered for q in unans), len(unans)),
            f"{ms:.0f}",
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")


def recall_sets(args: argparse.Namespace, dataset: str) -> None:
    records, qs = corpora.LOADERS[dataset]()
    held_ids: set[str] = set()
    if dataset == "squad":
        data = json.loads(corpora.SQUAD.read_text())["data"]
        held_ids = {
            qa["id"] for a in data if article_part(a["title"]) == HELD for p in a["paragraphs"] for qa in p["qas"]
        }
        if args.squad_limit:
            qs = qs[:: max(1, len(qs) // args.squad_limit)][: args.squad_limit]
    work = WORK / dataset
    corpora.write_corpus(records, work / "corpus.jsonl")
    opened = retrievers(work / "corpus.jsonl", work / "index")
    print(f"\n{dataset}: {len(qs)} questions\n")
    print("| system | recall@1 | held-half articles recall@1 | answer in highlight | ms/q |")
    print("|---" * 5 + "|")
    for name, mode, read in SYSTEMS:
        res, ms = run(opened[read], qs, 5, mode, group_copies=False)
        firsts = [bool(r.hits) and success(q, r.hits[0], dataset) for q, r in zip(qs, res, strict=True)]
        held = [f for q, f in zip(qs, firsts, strict=True) if q["id"] in held_ids]
        in_hl = sum(
            f and contains(r.hits[0].highlight_text or "", q["answers"])
            for q, r, f in zip(qs, res, firsts, strict=True)
        )
        cells = [
            share(sum(firsts), len(qs)),
            share(sum(held), len(held)) if held else "-",
            share(in_hl, len(qs)),
            f"{ms:.0f}",
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")


def seeds(args: argparse.Namespace) -> None:
    qs = [json.loads(line) for line in SEEDS_DEV.read_text().splitlines() if line.strip()]
    opened = retrievers(ROOT / "seeds", WORK / "seeds-index")
    print(f"\nseed dev questions: {len(qs)}\n")
    print("| system | top-1 holds an answer | exact answer right | ms/q |")
    print("|---" * 4 + "|")
    for name, mode, read in SYSTEMS:
        res, ms = run(opened[read], qs, 3, mode)
        answers = [[a for a in q.get("answers", [])] for q in qs]
        top = sum(bool(r.hits) and contains(r.hits[0].text, a) for r, a in zip(res, answers, strict=True))
        exact = sum(
            r.answer is not None
            and any(x.lower() in r.answer.text.lower() or r.answer.text.lower() in x.lower() for x in a)
            for r, a in zip(res, answers, strict=True)
        )
        print(f"| {name} | {share(top, len(qs))} | {share(exact, len(qs))} | {ms:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bbc-index", type=Path, default=Path("/tmp/bbc-index"))
    parser.add_argument("--per-kind", type=int, default=300)
    parser.add_argument("--squad-limit", type=int, default=0, help="an even sample of SQuAD v1.1 dev (0: all)")
    parser.add_argument("--sets", nargs="+", default=["bbc", "v2", "squad", "realtimeqa", "seeds"])
    args = parser.parse_args()
    for name in args.sets:
        if name in ("squad", "realtimeqa"):
            recall_sets(args, name)
        else:
            globals()[name](args)


if __name__ == "__main__":
    main()
