"""Article extraction: a scraped page's story as spans of its raw text, and its headline, publisher, date, byline.

The extractor itself (its patterns, jusText) loads on first use: a question on a built index never needs it.
"""

from typing import Any

from qa.extract.version import EXTRACTOR_ID, EXTRACTOR_VERSION
from qa.records import Block, Extraction

__all__ = ["EXTRACTOR_ID", "EXTRACTOR_VERSION", "Block", "Extraction", "explain_file", "extract", "extract_document"]

_LAZY = ("explain_file", "extract", "extract_document")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import qa.extract.article as article

        return getattr(article, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
