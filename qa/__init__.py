"""Question answering over news articles with verbatim, cited passages: no generated text, ever."""

from qa.chunk import ChunkSettings
from qa.errors import (
    BadInputError,
    DocsNotFoundError,
    EmptyCorpusError,
    EmptyQuestionError,
    IndexBusyError,
    IndexDamagedError,
    IndexLocationError,
    ModelNotFoundError,
    QAError,
)
from qa.records import Highlight, Hit, Passage, SearchResult, Source
from qa.search.retriever import Retriever

__version__ = "0.1.0"

__all__ = [
    "BadInputError",
    "ChunkSettings",
    "DocsNotFoundError",
    "EmptyCorpusError",
    "EmptyQuestionError",
    "Highlight",
    "Hit",
    "IndexBusyError",
    "IndexDamagedError",
    "IndexLocationError",
    "ModelNotFoundError",
    "Passage",
    "QAError",
    "Retriever",
    "SearchResult",
    "Source",
    "__version__",
]
