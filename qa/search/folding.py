"""Ranked rows -> hits: each stretch of text shown once, its wire copies in other documents folded under it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from qa.records import AlsoIn, Hit, Passage
from qa.search.candidates import Candidates
from qa.search.copies import Copy, DuplicateFinder, stack
from qa.search.sources import Sources
from qa.storage.generations import StoredIndex

Stretch = tuple[str, int, int]  # (document key, start, end): raw-file offsets


@dataclass
class Folded:
    """The hits so far, the rows they were stored at, and every stretch already shown (as a hit or a copy)."""

    hits: list[Hit] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    covered: list[Stretch] = field(default_factory=list)
    copies: list[Passage] = field(default_factory=list)  # the passages the hits' `also_in` entries name


class HitFolder:
    """Turns ranked rows into hits, a passage another document carries too shown once. Thread-safe."""

    def __init__(self, index: StoredIndex, sources: Sources) -> None:
        self._index = index
        self._sources = sources
        self._duplicates = DuplicateFinder(index)

    def fold(
        self,
        ranked: list[tuple[int, float]],
        pool: Iterable[int],
        found: Candidates,
        *,
        wanted: int,
        batch: int,
        group_copies: bool,
    ) -> Folded:
        """Up to `wanted` hits from `ranked` (row, score), best first, passages read `batch` at a time.

        With `group_copies`, a passage whose copy is already a hit goes into that hit's `also_in`; the
        copies are looked for among the rows of `pool` (the question's candidates).
        """
        folded = Folded()
        fetched: dict[int, Passage] = {}
        near: tuple[np.ndarray, np.ndarray] | None = None
        for position, (row, score) in enumerate(ranked):
            if row not in fetched:  # passages come from disk, a few at a time
                fetched.update(self._index.passages(r for r, _ in ranked[position : position + batch]))
            passage = fetched[row]
            if _overlaps(folded.covered, passage.doc_key, passage.start, passage.end):
                continue
            if group_copies and near is None:
                near = stack(self._index.vectors_of(pool))  # once per question: candidates for wire copies
            copies = self._duplicates.copies(row, near) if group_copies else []
            if self._fold_into_earlier(folded, passage, copies):
                continue
            self._add_hit(folded, row, score, passage, copies, found)
            if len(folded.hits) == wanted:
                break
        return folded

    def _fold_into_earlier(self, folded: Folded, passage: Passage, copies: list[Copy]) -> bool:
        """List `passage` under the hit it copies, if one is shown already; False when none is."""
        hits = folded.hits
        earlier = next((h for h in hits for c in copies if _same_stretch(h.passage, c)), None)
        if earlier is None:
            return False
        similarity = max(c.similarity for c in copies if _same_stretch(earlier.passage, c))
        also = AlsoIn(
            self._sources[passage.doc_key],
            passage.id,
            passage.start,
            passage.end,
            passage.line_start,
            passage.line_end,
            similarity,
            passage.text,
        )
        hits[earlier.rank - 1] = replace(earlier, also_in=(*earlier.also_in, also))
        folded.covered.append((passage.doc_key, passage.start, passage.end))
        folded.copies.append(passage)
        return True

    def _add_hit(
        self, folded: Folded, row: int, score: float, passage: Passage, copies: list[Copy], found: Candidates
    ) -> None:
        folded.covered.append((passage.doc_key, passage.start, passage.end))
        folded.covered.extend((c.doc_key, c.start, c.end) for c in copies)
        folded.rows.append(row)
        named = [self._index.passage(c.row) for c in copies]  # where each copy's stretch starts
        folded.copies.extend(named)
        folded.hits.append(
            Hit(
                rank=len(folded.hits) + 1,
                score=float(score),
                passage=passage,
                source=self._sources[passage.doc_key],
                dense_score=found.dense_score(row),
                bm25_score=found.bm25_score(row),
                also_in=tuple(self._also_in(c, p) for c, p in zip(copies, named, strict=True)),
            )
        )

    def _also_in(self, copy: Copy, starts_in: Passage) -> AlsoIn:
        return AlsoIn(
            source=self._sources[copy.doc_key],
            passage_id=starts_in.id,
            start=copy.start,
            end=copy.end,
            line_start=copy.line_start,
            line_end=copy.line_end,
            similarity=copy.similarity,
            text=self._stretch_text(copy),
        )

    def _stretch_text(self, copy: Copy) -> str:
        """The copy's text: the slices of its passages (consecutive rows, in text order) joined by a space."""
        parts = []
        row = copy.row
        while True:
            try:
                passage = self._index.passage(row)
            except KeyError:
                break
            if passage.doc_key != copy.doc_key or passage.start >= copy.end:
                break
            low, high = max(copy.start, passage.start), min(copy.end, passage.end)
            parts.append(passage.text[low - passage.start : high - passage.start])
            row += 1
        return " ".join(parts)


def _overlaps(stretches: list[Stretch], doc_key: str, start: int, end: int) -> bool:
    return any(key == doc_key and start < s_end and s_start < end for key, s_start, s_end in stretches)


def _same_stretch(passage: Passage, copy: Copy) -> bool:
    return copy.doc_key == passage.doc_key and copy.start < passage.end and passage.start < copy.end
