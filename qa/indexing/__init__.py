"""Indexing: keep an index in step with its corpus (plan what changed, embed it in batches, finalize)."""

from qa.indexing.build import ensure_index
from qa.indexing.changes import read_excluded, scan_corpus, write_excluded
from qa.indexing.status import index_status, verify_index

__all__ = ["ensure_index", "index_status", "verify_index", "read_excluded", "scan_corpus", "write_excluded"]
