"""Ingest: corpus files (folders of .txt/.md/.html, or a .jsonl file) -> decoded Documents."""

from qa.ingest.corpus import (
    CORPUS_SUFFIXES,
    MAX_ARTICLE_BYTES,
    decode,
    escape_path,
    file_sha256,
    read_documents,
    scan,
    unescape_path,
)
from qa.records import Corpus, CorpusFile
from qa.text.encoding import is_encodable

__all__ = [
    "CORPUS_SUFFIXES",
    "MAX_ARTICLE_BYTES",
    "Corpus",
    "CorpusFile",
    "decode",
    "escape_path",
    "file_sha256",
    "is_encodable",
    "read_documents",
    "scan",
    "unescape_path",
]
