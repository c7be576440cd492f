"""Indexing: keep an index in step with its corpus (plan what changed, embed it in batches, finalize)."""
