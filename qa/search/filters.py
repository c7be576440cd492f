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


def _from_source(meta: DocumentMeta, shown: Source, needle: str | None) -> bool:
    if needle is None:
        return True
    fields = (meta.publisher, meta.byline, meta.title, shown.path, meta.source_id)
    return any(needle in field.casefold() for field in fields if field)


def _in_range(published: str | None, since: str | None, until: str | None) -> bool:
    if since is not None and (published is None or published < since):
        return False
    return until is None or (published is not None and published <= until)
