"""What both framework retrievers share: opening the index once, on first use, and each hit's metadata.

The metadata is taken from `Hit.to_dict()` (what `--json` prints), never rebuilt from other fields, so that a
LangChain document and a LlamaIndex node say the same about a passage as every other front.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from qa.app import OpenOptions, Retriever, check_date, check_k, check_mode, open_retriever
from qa.records import Hit, SearchResult

logger = logging.getLogger("qa.integrations")


class LazyRetriever:
    """A `Retriever` opened (building or updating the index if needed) on the first question, once, even when
    several threads ask at once: constructing a framework retriever stays instant and never touches the disk
    (its `OpenOptions` are checked then, as every front's)."""

    def __init__(self, options: OpenOptions) -> None:
        self._options = options
        self._opened: Retriever | None = None
        self._lock = threading.Lock()

    def get(self) -> Retriever:
        with self._lock:
            if self._opened is None:
                self._opened = open_retriever(self._options)
            return self._opened


def check_settings(k: int, mode: str, since: str | None, until: str | None) -> None:
    """The library's own checks, when the framework retriever is made: a bad setting fails there, not later."""
    check_k(k)
    check_mode(mode)
    check_date(since, "since")
    check_date(until, "until")


def retrieve(
    retriever: Retriever,
    query: str,
    k: int,
    mode: str,
    source: str | None,
    since: str | None,
    until: str | None,
) -> list[tuple[Hit, dict[str, Any]]]:
    """Each hit of the search with its metadata; passages left out because their file changed are logged."""
    result = retriever.search(query, k, mode, source=source, since=since, until=until)
    for warning in result.warnings:
        logger.warning("%s", warning)
    return [(hit, hit_metadata(hit, result)) for hit in result.hits]


def hit_metadata(hit: Hit, result: SearchResult) -> dict[str, Any]:
    """The passage's place in its file (`path`, `start`/`end` raw-file offsets, 1-based lines), its source,
    its ranking, the highlight, whether the articles seem to answer, and `citation`/`url` when known."""
    shown = hit.to_dict()
    source = shown["source"]
    metadata: dict[str, Any] = {
        "id": shown["id"],
        "path": source["path"],
        "source_id": source["id"],
        "start": shown["start"],
        "end": shown["end"],
        "line_start": shown["line_start"],
        "line_end": shown["line_end"],
        "title": source["title"],
        "publisher": source["publisher"],
        "published": source["published"],
        "byline": source["byline"],
        "rank": shown["rank"],
        "score": shown["score"],
        "highlight": shown["highlight"],
        "answered": result.answered,
    }
    if source.get("url"):
        metadata["url"] = source["url"]
    if "citation" in shown:
        metadata["citation"] = shown["citation"]
    return metadata
