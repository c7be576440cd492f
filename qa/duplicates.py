"""Wire copy: find where other documents carry (nearly) the same text as a passage, sentence by sentence.

Every sentence of a few words is embedded when the index is built. A passage's sentences are compared
with all sentences of other documents (a matrix product over the stored float16 vectors); another
document carries the passage when at least half of its sentences have a counterpart there, and the
reported stretch runs from the first to the last matching sentence in that document.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .records import Passage
from .sentences import line_spans, sentence_spans
from .store import StoredIndex

# Measured on the seeds (all-MiniLM-L6-v2, bench/wire_copies.py): sentences of a rewritten Reuters story
# (000 vs 001) match their originals at cosine 0.85-0.95; the closest sentences of independently written
# stories about the same events reach 0.82 (one pair among 3,000), the next 0.79.
SENTENCE_MIN = 0.84
SHARE_MIN = 0.5  # of the passage's sentences that must have a counterpart in the other document
MIN_SENTENCE_WORDS = 4  # shorter sentences ("He added.") match too much to count
_BLOCK = 65536  # sentences compared per matrix product, to bound memory


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
        table = index.sentences
        self._doc_of_sentence = None
        if len(table):
            doc_ids = {key: i for i, key in enumerate(index.documents)}
            passage_doc = np.array([doc_ids[p.doc_key] for p in index.passages], dtype=np.int64)
            self._doc_of_sentence = passage_doc[table[:, 0]]
            self._doc_ids = doc_ids

    def copies(self, row: int) -> list[Copy]:
        """Copies of passage `row` in other documents, one per document, most similar first."""
        if self._doc_of_sentence is None:
            return []
        spans, vectors = self._index.sentences_of(row)
        if not len(spans):
            return []
        query = np.asarray(vectors, dtype=np.float32)
        own_doc = self._doc_ids[self._index.passages[row].doc_key]
        best: dict[int, np.ndarray] = {}  # doc -> best similarity per query sentence
        matched: dict[int, list[int]] = {}  # doc -> sentence indices there that match
        total = len(self._index.sentences)
        for lo in range(0, total, _BLOCK):
            block = np.asarray(self._index.sentence_vectors[lo : lo + _BLOCK], dtype=np.float32)
            sims = block @ query.T  # (block, k)
            close = np.nonzero(sims.max(axis=1) >= SENTENCE_MIN)[0]
            for j in close:
                doc = int(self._doc_of_sentence[lo + j])
                if doc == own_doc:
                    continue
                best[doc] = np.maximum(best.get(doc, np.full(len(spans), -1.0)), sims[j])
                matched.setdefault(doc, []).append(lo + int(j))
        keys = list(self._doc_ids)
        found = []
        for doc, per_sentence in best.items():
            hits = per_sentence >= SENTENCE_MIN
            if hits.sum() < max(1.0, SHARE_MIN * len(spans)):
                continue
            found.append(self._copy(keys[doc], sorted(matched[doc]), float(per_sentence[hits].mean())))
        return sorted(found, key=lambda c: (-c.similarity, c.doc_key))

    def _copy(self, doc_key: str, sentence_ids: list[int], similarity: float) -> Copy:
        table = self._index.sentences
        first, last = table[sentence_ids[0]], max((table[i] for i in sentence_ids), key=lambda r: r[2])
        start_passage = self._index.passages[int(first[0])]
        end_passage = self._index.passages[int(last[0])]
        return Copy(
            row=int(first[0]),
            doc_key=doc_key,
            start=int(first[1]),
            end=int(last[2]),
            line_start=_line_of(start_passage, int(first[1])),
            line_end=_line_of(end_passage, int(last[2])),
            similarity=similarity,
        )


def _line_of(passage: Passage, offset: int) -> int:
    return passage.line_start + passage.text.count("\n", 0, offset - passage.start)


def sentence_spans_of(passage: Passage) -> list[tuple[int, int]]:
    """Raw-file spans of the sentences of a passage that have at least a few words."""
    spans = []
    for line_start, line_end in line_spans(passage.text):
        for start, end in sentence_spans(passage.text, line_start, line_end):
            if len(passage.text[start:end].split()) >= MIN_SENTENCE_WORDS:
                spans.append((passage.start + start, passage.start + end))
    return spans
