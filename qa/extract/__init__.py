"""Article extraction: a scraped page's story as spans of its raw text, and its headline, publisher, date, byline."""

from qa.extract.article import EXTRACTOR_VERSION, explain_file, extract, extract_document
from qa.records import Block, Extraction

__all__ = ["EXTRACTOR_VERSION", "Block", "Extraction", "explain_file", "extract", "extract_document"]
