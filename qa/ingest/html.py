"""HTML pages: the article text and metadata trafilatura finds in them.

A web page's raw bytes are markup, so passages cannot be slices of them. For an `.html` file the
document text is the text trafilatura extracts (main content, no comments, no tables of links), and
passage offsets index that text; `ask.py --explain FILE` prints it with the offsets.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from qa.text.dates import normalise_date

HTML_SUFFIXES = (".html", ".htm")


@dataclass(frozen=True)
class HtmlText:
    text: str  # "" when the page holds no text at all
    title: str | None
    publisher: str | None
    published: str | None  # YYYY-MM-DD
    byline: str | None
    url: str | None
    whole_page: bool  # no article found: the page's full text was taken instead


def html_text(markup: str) -> HtmlText:
    """Article text and metadata of one HTML page (trafilatura is imported on first use)."""
    import trafilatura

    # trafilatura logs "discarding data" at WARNING for every thin page; the indexer reports skips itself
    logging.getLogger("trafilatura").setLevel(logging.ERROR)

    found: Any = None  # trafilatura's Document (untyped here)
    for favor_recall in (False, True):  # precise first; a short page may need the recall setting
        found = trafilatura.bare_extraction(
            markup, with_metadata=True, include_comments=False, include_tables=True, favor_recall=favor_recall
        )
        if found is not None and (found.text or "").strip():
            break
    text = (found.text or "") if found is not None else ""
    whole_page = not text.strip()
    if whole_page:
        text = trafilatura.html2txt(markup) or ""

    def field(name: str) -> str | None:
        value = getattr(found, name, None) if found is not None else None
        return value.strip() or None if isinstance(value, str) else None

    published = field("date")
    return HtmlText(
        text=text,
        title=field("title"),
        publisher=field("sitename"),
        published=normalise_date(published) if published else None,
        byline=field("author"),
        url=field("url"),
        whole_page=whole_page,
    )
