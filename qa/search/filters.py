"""Search filters: the passages of the documents a source name and a date range keep."""

from __future__ import annotations

import numpy as np

from qa.records import DocumentMeta, Source
from qa.search.sources import Sources
from qa.storage.generations import StoredIndex


def allowed_rows(
    index: StoredIndex, sources: Sources, source: str | None, since: str | None, until: str | None
) -> np.ndarray | None:
    """Rows of the passages whose documents pass the filters; None when there are no filters.

    `source` is matched (case-insensitive) in the publisher, byline, title, shown path or record id;
    `since` and `until` are checked YYYY-MM-DD bounds, and leave out documents without a date.
    """
    if source is None and since is None and until is None:
        return None
    needle = source.casefold().strip() if source is not None else None
    keys = {
        key
        for key, meta in index.documents.items()
        if _from_source(meta, sources[key], needle) and _in_range(meta.published, since, until)
    }
    return index.rows_of_documents(keys)


def why_empty(index: StoredIndex, sources: Sources, source: str | None, since: str | None, until: str | None) -> str:
    """Why no passage passes the filters, in words for any front: "no article's publisher, byline, title or path
    contains 'xyz'", "no article is dated between 2022-02-01 and 2022-02-05 (the articles are dated ...)"."""
    if since is not None and until is not None and since > until:
        return f"the date range is empty: {since} is after {until}"
    needle = source.casefold().strip() if source is not None else None
    matching = [meta for key, meta in index.documents.items() if _from_source(meta, sources[key], needle)]
    if not matching:
        return f"no article's publisher, byline, title or path contains {(source or '').strip()!r}"
    if since is None and until is None:
        return "the articles that match hold no indexed passage"
    articles = f"article matching {(source or '').strip()!r}" if needle else "article"
    if since is not None and until is not None:
        span = f"between {since} and {until}" if since != until else f"on {since}"
    else:
        span = f"on or after {since}" if since is not None else f"on or before {until}"
    dates = sorted(meta.published for meta in matching if meta.published)
    undated = len(matching) - len(dates)
    known = []
    if dates:
        which = f"the {'matching ' if needle else ''}article{'s are' if len(dates) > 1 else ' is'}"
        known.append(f"{which} dated {dates[0]}" + (f" to {dates[-1]}" if dates[-1] != dates[0] else ""))
    if undated:
        known.append(f"{undated} article{' has' if undated == 1 else 's have'} no date")
    return f"no {articles} is dated {span}" + (f" ({'; '.join(known)})" if known else "")


def _from_source(meta: DocumentMeta, shown: Source, needle: str | None) -> bool:
    if needle is None:
        return True
    fields = (meta.publisher, meta.byline, meta.title, shown.path, meta.source_id)
    return any(needle in field.casefold() for field in fields if field)


def _in_range(published: str | None, since: str | None, until: str | None) -> bool:
    if since is not None and (published is None or published < since):
        return False
    return until is None or (published is not None and published <= until)
