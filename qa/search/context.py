"""A passage among its neighbours in its article: one answer for the chat's /open, the HTTP
`/passages/{id}/context` and the MCP `read_passage` tool."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qa.records import Passage, Source


@dataclass(frozen=True)
class PassageContext:
    """Passages `first`..`first + len(passages)` of an article of `total`, in text order; `at` is the one asked
    for, counted within `passages`."""

    id: str
    source: Source
    passages: list[Passage]
    at: int
    first: int
    total: int

    @property
    def more_before(self) -> bool:
        return self.first > 0

    @property
    def more_after(self) -> bool:
        return self.first + len(self.passages) < self.total

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source.to_dict(),
            "passages": [{**p.to_dict(), "current": i == self.at} for i, p in enumerate(self.passages)],
            "more_before": self.more_before,
            "more_after": self.more_after,
        }


def around(
    found: Passage, siblings: list[Passage], source: Source, before: int | None, after: int | None
) -> PassageContext | None:
    """`found` among `siblings` (its article's passages in text order), `before` and `after` of them on each
    side (None: all); None when `found` is no longer among them (its file changed in between)."""
    at = next((i for i, sibling in enumerate(siblings) if sibling.id == found.id), None)
    if at is None:
        return None
    first = 0 if before is None else max(0, at - before)
    last = len(siblings) if after is None else min(len(siblings), at + after + 1)
    return PassageContext(found.id, source, siblings[first:last], at - first, first, len(siblings))
