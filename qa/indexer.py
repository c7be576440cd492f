"""Import shim: `qa.indexer.ensure_index` / `index_status` as documented before qa/indexing/ existed."""

from qa.indexing import ensure_index, index_status

__all__ = ["ensure_index", "index_status"]
