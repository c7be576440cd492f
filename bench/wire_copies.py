"""Where should the wire-copy threshold sit? Sentence similarities across the seeds (and BBC). Run by hand.

python bench/wire_copies.py [--bbc 200]

Builds a real-model index of the seeds (plus --bbc N BBC articles as unrelated text, 0 for none) in a
temporary folder, then for every pair of documents reports how many sentences of one have a
counterpart in the other (qa.search.copies: cosine >= SENTENCE_MIN and cosine + Dice of the word sets >=
PAIR_MIN), the closest pairs below that, and which passages would be grouped as copies
(qa.search.copies.DuplicateFinder), per document pair.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import Retriever  # noqa: E402
from qa.search.copies import PAIR_MIN, SENTENCE_MIN, DuplicateFinder, pair_scores  # noqa: E402
from qa.storage.generations import read_index  # noqa: E402

BBC = ROOT.parent / "shared" / "data" / "bbc"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bbc", type=int, default=200, help="BBC articles added as unrelated text")
    parser.add_argument("--closest", type=int, default=5, help="closest cross-document sentence pairs shown")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        shutil.copytree(ROOT / "seeds", docs / "seeds")
        if args.bbc and BBC.is_dir():
            picked = sorted(BBC.glob("*/*.txt"))[:: max(1, 2225 // args.bbc)][: args.bbc]
            for path in picked:
                target = docs / "bbc" / path.parent.name / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, target)
        began = time.perf_counter()
        Retriever.open(docs=docs, index=Path(tmp) / "idx")
        print(f"index built in {time.perf_counter() - began:.0f}s")
        index = read_index(Path(tmp) / "idx")
        assert index is not None
        report(index, args.closest)


def report(index, closest: int) -> None:
    keys = list(index.documents)
    table, parts = [], []  # (row, start, end) of every sentence, and its vector
    for row, passage in index.iter_passages():
        spans, vecs = index.sentences_of(row)
        table.extend((row, int(s), int(e), keys.index(passage.doc_key)) for s, e in spans)
        parts.append(np.asarray(vecs, dtype=np.float32))
    sentences = np.array(table, dtype=np.int64).reshape(-1, 4)
    doc_of_sentence = sentences[:, 3]
    vectors = np.concatenate(parts) if parts else np.zeros((0, index.vectors.d), np.float32)
    sims = vectors @ vectors.T
    sims[doc_of_sentence[:, None] == doc_of_sentence[None, :]] = -1.0  # only across documents
    passages = dict(index.iter_passages())
    stretches = [(passages[int(row)], int(start), int(end)) for row, start, end, _ in sentences]
    scores = pair_scores(sims, stretches, stretches)  # cosine + Dice where the cosine is high enough, else -1
    best = scores.max(axis=1)
    seeds = np.array([keys[d].startswith("seeds/") for d in doc_of_sentence])
    print(f"{len(vectors)} sentences in {len(keys)} documents; cosine >= {SENTENCE_MIN}, cosine + Dice >= {PAIR_MIN}")
    for name, mask in (("seed", seeds), ("BBC", ~seeds)):
        if mask.any():
            above = int((best[mask] >= PAIR_MIN).sum())
            print(f"  {name} sentences with a counterpart in another document: {above} of {mask.sum()}")
    pairs = collections.Counter()
    for i in np.nonzero(best >= PAIR_MIN)[0]:
        j = int(scores[i].argmax())
        pairs[(keys[doc_of_sentence[i]], keys[doc_of_sentence[j]])] += 1
    print("document pairs sharing sentences (sentences of the first with a counterpart in the second):")
    for (a, b), count in sorted(pairs.items()):
        print(f"  {count:3d}  {a}  ->  {b}")
    below = np.where(best < PAIR_MIN, best, -1.0)
    print("closest cross-document sentences below the threshold (cosine + Dice; candidates for false groupings):")
    for i in np.argsort(-below)[:closest]:
        j = int(scores[i].argmax())
        text_i, text_j = _sentence(index, sentences[i])[:60], _sentence(index, sentences[j])[:60]
        print(f"  {best[i]:.3f} (cosine {sims[i, j]:.3f})  {text_i!r}  ~  {text_j!r}")
    finder = DuplicateFinder(index)
    grouped = collections.Counter()
    for row, passage in index.iter_passages():
        for copy in finder.copies(row):
            grouped[(passage.doc_key, copy.doc_key)] += 1
    print("passages grouped as copies, by document pair:")
    for (a, b), count in sorted(grouped.items()):
        print(f"  {count:3d}  {a}  ->  {b}")


def _sentence(index, sentence: np.ndarray) -> str:
    row, start, end = (int(x) for x in sentence[:3])
    passage = index.passage(row)
    return passage.text[start - passage.start : end - passage.start].replace("\n", " ")


if __name__ == "__main__":
    main()
