"""The live generation of an index folder and what answers from it (its sources, copy folding, the check
of quotes against their files): a question runs on one `Live` from start to end."""

from __future__ import annotations

from dataclasses import dataclass

from qa.search.folding import HitFolder
from qa.search.sources import Sources
from qa.search.verify import SourceCheck
from qa.storage.generations import StoredIndex


@dataclass
class Live:
    """One generation and what answers from it: a question runs on one Live from start to end."""

    index: StoredIndex
    sources: Sources
    folder: HitFolder
    check: SourceCheck
    damaged: bool = False  # found damaged (and marked so) while answering

    @classmethod
    def of(cls, index: StoredIndex, shown_docs: str) -> Live:
        sources = Sources(index, index.manifest.corpus.kind, shown_docs)
        return cls(index, sources, HitFolder(index, sources), SourceCheck(index))

    def corpus_positions(self, rows: list[int]) -> dict[int, tuple[int, int]]:
        """row -> (its document's place in the corpus, its offset there)."""
        order = self.sources.corpus_order()
        return {row: (order[passage.doc_key], passage.start) for row, passage in self.index.passages(rows).items()}
