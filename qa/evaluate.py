"""Import shim: `qa.evaluate.evaluate` as documented before qa/search/ existed."""

from qa.search.evaluate import Report, evaluate

__all__ = ["Report", "evaluate"]
