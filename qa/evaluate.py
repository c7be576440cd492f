"""Import shim: `qa.evaluate.evaluate` as documented before qa/search/ existed."""

from qa.records import Report
from qa.search.evaluate import evaluate

__all__ = ["Report", "evaluate"]
