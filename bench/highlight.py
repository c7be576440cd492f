"""Tune the highlight weights on SQuAD dev: which sentence of the top passage holds the answer? Run by hand.

python bench/highlight.py [--questions 3000]

Uses the SQuAD index bench/retrieval.py keeps in /tmp/newsqa-bench/squad. For each sampled question whose
top hybrid hit is its gold paragraph, every sentence of that passage is scored with qa.search.highlight's
parts (cosine, word overlap, answer-kind bonus); a grid over W_LEXICAL and W_KIND reports how often the
best-scoring sentence holds an accepted answer, next to the choice in qa/search/highlight.py.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import corpora  # noqa: E402

import qa.search.highlight as hl  # noqa: E402
from qa import Retriever  # noqa: E402
from qa.text.sentences import line_spans, sentence_spans  # noqa: E402

WORK = Path("/tmp/newsqa-bench/squad")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=3000)
    args = parser.parse_args()
    records, questions = corpora.squad()
    corpora.write_corpus(records, WORK / "corpus.jsonl")
    retriever = Retriever.open(docs=WORK / "corpus.jsonl", index=WORK / "index")
    questions = random.Random(1).sample(questions, min(args.questions, len(questions)))
    index = retriever._index  # noqa: SLF001 - a benchmark may look inside
    rows_of = {p.id: row for row, p in index.iter_passages()}
    cases = []  # per question: array (sentences, 3) of [cosine, overlap, kind] and which hold an answer
    results = retriever.search_many([q["question"] for q in questions], k=1, group_copies=False)
    for q, result in zip(questions, results, strict=True):
        if not result.hits or result.hits[0].source.id not in q["gold"]:
            continue
        passage = result.hits[0].passage
        asked = hl.question_of(q["question"])
        vector = retriever._question_vector(q["question"])  # noqa: SLF001
        spans, vectors = index.sentences_of(rows_of[passage.id])
        sims = np.asarray(vectors, np.float32) @ vector
        cos = {(int(s), int(e)): float(v) for (s, e), v in zip(spans, sims, strict=True)}
        feats, good = [], []
        for a, b in line_spans(passage.text):
            for s, e in sentence_spans(passage.text, a, b):
                sentence = passage.text[s:e]
                raw = (passage.start + s, passage.start + e)
                kind = float(bool(asked.kind) and hl.carries(asked.kind, sentence))
                feats.append([cos.get(raw, 0.0), hl.overlap(asked, sentence), kind])
                good.append(any(ans.lower() in sentence.lower() for ans in q["answers"]))
        if any(good):
            cases.append((np.array(feats), np.array(good)))
    print(f"{len(cases)} questions whose top passage is gold and holds an answer in one sentence")
    print(f"{'W_LEXICAL':>9} {'W_KIND':>7} {'answer in highlight':>20}")
    best = None
    for w_lex in (0.0, 0.15, 0.25, 0.35, 0.5, 0.75, 1.0):
        for w_kind in (0.0, 0.05, 0.1, 0.2):
            weights = np.array([1.0, w_lex, w_kind])
            hits = sum(bool(good[int(np.argmax(f @ weights))]) for f, good in cases)
            share = hits / len(cases)
            mark = "  <- qa/search/highlight.py" if (w_lex, w_kind) == (hl.W_LEXICAL, hl.W_KIND) else ""
            print(f"{w_lex:9.2f} {w_kind:7.2f} {share:20.3f}{mark}")
            if best is None or share > best[0]:
                best = (share, w_lex, w_kind)
    print(f"best: W_LEXICAL={best[1]} W_KIND={best[2]} ({best[0]:.3f})")


if __name__ == "__main__":
    main()
