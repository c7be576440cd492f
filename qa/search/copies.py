"""Wire copy: find where other documents carry (nearly) the same text as a passage, sentence by sentence.

Every sentence of a few words is embedded when the index is built. A copy of a passage is close to it
as a whole, so only passages near it are examined: the candidates the question already retrieved (or,
without a question, the passage's nearest neighbours in the vector index) whose vector is within
PASSAGE_MIN of it, plus the passages on either side of those in their documents. Their sentences are
compared with the passage's; another document carries the passage when at least half of its sentences
have a counterpart there, and the reported stretch runs from the first to the last matching sentence.
The cost per hit is bounded by the candidates, whatever the size of the index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import qa.storage.vectors as ann
from qa.records import Passage
from qa.storage.generations import StoredIndex
from qa.text.words import WORD

# Two sentences are counterparts when their cosine plus the Dice coefficient of their lower-cased word sets
# reaches PAIR_MIN (and the cosine SENTENCE_MIN). Sentence vectors pooled from their passages (late
# chunking) carry their context, so the words must agree too. Measured with bench/wire_copies.py (seeds +
# 200 BBC articles, 4,000 sentences): the rewritten Reuters story 000 matches 001 at cosine 0.73-0.93 and
# Dice 0.43-0.81 (sums 1.26-1.57); the closest pairs that are no copy sum to 1.19 (two box-office sentences)
# and 1.19 (two leads of different stories); 1.15 grouped three such pairs, 1.25 groups none.
SENTENCE_MIN = 0.6
PAIR_MIN = 1.25
SHARE_MIN = 0.5  # of the passage's sentences that must have a counterpart in the other document
# a passage holding half of another's sentences is far closer than this as a whole (seed copies: 0.8-0.97)
PASSAGE_MIN = 0.5
NEIGHBOURS = 50  # candidates taken from the vector index when the caller gives none
MAX_CLOSE = 8  # other documents' passages examined per hit (the closest), with the passages beside them


@dataclass(frozen=True)
class Copy:
    """A stretch of another document that repeats (most of) a passage."""

    row: int  # the stored passage where the stretch starts
    doc_key: str
    start: int
    end: int
    line_start: int
    line_end: int
    similarity: float  # mean cosine of the passage's matched sentences


class DuplicateFinder:
    """Finds copies of passages in other documents from the index's sentence vectors. Thread-safe."""

    def __init__(self, index: StoredIndex) -> None:
        self._index = index

    def copies(self, row: int, candidates: tuple[np.ndarray, np.ndarray] | None = None) -> list[Copy]:
        """Copies of passage `row` in other documents, one per document, most similar first.

        `candidates` is (rows, their vectors as a matrix) to look among (default: the passage's neighbours).
        """
        index = self._index
        spans, vectors = index.sentences_of(row)
        if not len(spans):
            return []
        if candidates is None:
            candidates = self.candidates_near(row)
        rows, matrix = candidates
        if not len(rows):
            return []
        where = np.nonzero(rows == row)[0]
        mine = matrix[where[0]] if len(where) else index.vectors_of([row])[row]
        sims = matrix @ mine
        order = [int(i) for i in np.argsort(-sims, kind="stable") if sims[i] >= PASSAGE_MIN and rows[i] != row]
        own = index.passage(row)
        near = index.passages(int(rows[i]) for i in order[: 4 * MAX_CLOSE])
        close = [int(rows[i]) for i in order[: 4 * MAX_CLOSE] if near[int(rows[i])].doc_key != own.doc_key]
        close = close[:MAX_CLOSE]
        around = {r for c in close for r in (c - 1, c, c + 1) if r >= 0 and r != row}
        passages = {r: p for r, p in index.passages(around).items() if p.doc_key != own.doc_key}
        if not passages:
            return []
        query = np.asarray(vectors, dtype=np.float32)
        ours = [(own, int(start), int(end)) for start, end in spans]
        best: dict[str, np.ndarray] = {}  # doc -> best similarity per query sentence
        matched: dict[str, list[tuple[int, int, int]]] = {}  # doc -> (row, start, end) of matching sentences
        for r, (their_spans, their_vectors) in index.sentences(passages).items():
            if not len(their_spans):
                continue
            cosines = np.asarray(their_vectors, dtype=np.float32) @ query.T  # (theirs, ours)
            theirs = [(passages[r], int(start), int(end)) for start, end in their_spans]
            # close in meaning and in words; the pair's cosine is kept where it counts (for `similarity`)
            counted = np.where(pair_scores(cosines, theirs, ours) >= PAIR_MIN, cosines, -1.0)
            doc = passages[r].doc_key
            best[doc] = np.maximum(best.get(doc, np.full(len(spans), -1.0)), counted.max(axis=0))
            for j in np.nonzero(counted.max(axis=1) > -1.0)[0]:
                matched.setdefault(doc, []).append((r, int(their_spans[j, 0]), int(their_spans[j, 1])))
        found_copies = []
        for doc, per_sentence in best.items():
            hits = per_sentence > -1.0
            if hits.sum() < max(1.0, SHARE_MIN * len(spans)) or doc not in matched:
                continue
            ordered = sorted(set(matched[doc]), key=lambda m: m[1])
            found_copies.append(self._copy(doc, ordered, passages, hits, per_sentence))
        return sorted(found_copies, key=lambda c: (-c.similarity, c.doc_key))

    def candidates_near(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """The passage's nearest neighbours in the vector index, with their vectors."""
        index = self._index
        vector = index.vectors_of([row])[row]
        _, found = ann.search(index.vectors, vector, min(NEIGHBOURS, index.count))
        return stack(index.vectors_of(int(r) for r in found[0] if r >= 0))

    def _copy(
        self,
        doc_key: str,
        sentences: list[tuple[int, int, int]],
        passages: dict[int, Passage],
        hits: np.ndarray,
        per_sentence: np.ndarray,
    ) -> Copy:
        first = sentences[0]
        last = max(sentences, key=lambda m: m[2])
        return Copy(
            row=first[0],
            doc_key=doc_key,
            start=first[1],
            end=last[2],
            line_start=_line_of(passages[first[0]], first[1]),
            line_end=_line_of(passages[last[0]], last[2]),
            similarity=float(per_sentence[hits].mean()),
        )


def stack(vectors: dict[int, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(rows, matrix) from row -> vector: the form DuplicateFinder.copies takes its candidates in."""
    rows = np.fromiter(vectors, dtype=np.int64, count=len(vectors))
    if not len(rows):
        return rows, np.zeros((0, 1), np.float32)
    return rows, np.vstack([vectors[int(r)] for r in rows])


Stretch = tuple[Passage, int, int]  # a sentence: its passage and its raw-file offsets


def pair_scores(cosines: np.ndarray, theirs: list[Stretch], ours: list[Stretch]) -> np.ndarray:
    """(theirs, ours) cosine + Dice coefficient of the two sentences' lower-cased word sets, for the pairs whose
    cosine reaches SENTENCE_MIN; -1 for the others (their words are never read)."""
    out = np.full(cosines.shape, -1.0)
    their_words: dict[int, frozenset[str]] = {}
    our_words: dict[int, frozenset[str]] = {}
    for i, j in zip(*np.nonzero(cosines >= SENTENCE_MIN), strict=True):
        if i not in their_words:
            their_words[i] = _words(*theirs[i])
        if j not in our_words:
            our_words[j] = _words(*ours[j])
        a, b = their_words[i], our_words[j]
        dice = 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0
        out[i, j] = float(cosines[i, j]) + dice
    return out


def _words(passage: Passage, start: int, end: int) -> frozenset[str]:
    """The lower-cased words of a raw-offset stretch of `passage`."""
    return frozenset(WORD.findall(passage.text[start - passage.start : end - passage.start].lower()))


def _line_of(passage: Passage, offset: int) -> int:
    return passage.line_start + passage.text.count("\n", 0, offset - passage.start)
