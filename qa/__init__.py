"""Question answering over news articles with verbatim, cited passages: no generated text, ever.

The public API: open a `Retriever` over a folder of articles (or a .jsonl file) and `search` it; keep an
index up to date with `ensure_index`, look at it with `index_status`, score it with `evaluate`, and see
what article extraction keeps of a file with `explain_file`. Everything else is internal.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.embed.reference import HashEmbedder, load_embedder
    from qa.embed.runtimes.ray_embedder import RaySettings
    from qa.errors import (
        BackendError,
        BadInputError,
        DocsNotFoundError,
        EmptyCorpusError,
        EmptyQuestionError,
        IndexBusyError,
        IndexDamagedError,
        IndexLocationError,
        MissingExtraError,
        ModelNotFoundError,
        QAError,
        RayUnavailableError,
        StoreMismatchError,
        StoreOutOfStepError,
        StoreUnavailableError,
    )
    from qa.extract.article import explain_file
    from qa.indexing import ensure_index, index_status
    from qa.read.reader import ReaderError
    from qa.records import (
        AlsoIn,
        Answer,
        Block,
        Changes,
        ChunkSettings,
        Document,
        Embedder,
        Evidence,
        Extraction,
        GradedQuestion,
        Highlight,
        Hit,
        IndexedDocument,
        IndexStatus,
        IngestWarning,
        Passage,
        QuestionScore,
        Report,
        Reporter,
        SearchResult,
        SilentReporter,
        Source,
        Turn,
        Value,
        ValueSource,
    )
    from qa.search.evaluate import evaluate
    from qa.search.retriever import Retriever
    from qa.version import __version__

__all__ = [
    "AlsoIn",
    "Answer",
    "BackendError",
    "BadInputError",
    "Changes",
    "ChunkSettings",
    "DocsNotFoundError",
    "Document",
    "Embedder",
    "EmptyCorpusError",
    "EmptyQuestionError",
    "Evidence",
    "Extraction",
    "HashEmbedder",
    "GradedQuestion",
    "Highlight",
    "Hit",
    "IndexBusyError",
    "IndexDamagedError",
    "IndexLocationError",
    "IndexStatus",
    "IndexedDocument",
    "IngestWarning",
    "ModelNotFoundError",
    "Passage",
    "QAError",
    "QuestionScore",
    "Report",
    "Turn",
    "Block",
    "MissingExtraError",
    "RaySettings",
    "RayUnavailableError",
    "ReaderError",
    "StoreMismatchError",
    "StoreOutOfStepError",
    "StoreUnavailableError",
    "Reporter",
    "Retriever",
    "SearchResult",
    "SilentReporter",
    "Source",
    "Value",
    "ValueSource",
    "__version__",
    "ensure_index",
    "evaluate",
    "explain_file",
    "index_status",
    "load_embedder",
]

# Each public name and the module it lives in: imported on first use (PEP 562), so a cold question imports
# what it needs and no more, and can start loading its encoder before the rest (qa/embed/preload.py).
_HOMES = {
    "AlsoIn": "qa.records",
    "Answer": "qa.records",
    "BackendError": "qa.errors",
    "BadInputError": "qa.errors",
    "Changes": "qa.records",
    "ChunkSettings": "qa.records",
    "DocsNotFoundError": "qa.errors",
    "Document": "qa.records",
    "Embedder": "qa.records",
    "EmptyCorpusError": "qa.errors",
    "EmptyQuestionError": "qa.errors",
    "Evidence": "qa.records",
    "Extraction": "qa.records",
    "HashEmbedder": "qa.embed.reference",
    "GradedQuestion": "qa.records",
    "Highlight": "qa.records",
    "Hit": "qa.records",
    "IndexBusyError": "qa.errors",
    "IndexDamagedError": "qa.errors",
    "IndexLocationError": "qa.errors",
    "IndexStatus": "qa.records",
    "IndexedDocument": "qa.records",
    "IngestWarning": "qa.records",
    "ModelNotFoundError": "qa.errors",
    "Passage": "qa.records",
    "QAError": "qa.errors",
    "QuestionScore": "qa.records",
    "Report": "qa.records",
    "Turn": "qa.records",
    "Block": "qa.records",
    "MissingExtraError": "qa.errors",
    "RaySettings": "qa.embed.runtimes.ray_embedder",
    "RayUnavailableError": "qa.errors",
    "ReaderError": "qa.read.reader",
    "StoreMismatchError": "qa.errors",
    "StoreOutOfStepError": "qa.errors",
    "StoreUnavailableError": "qa.errors",
    "Reporter": "qa.records",
    "Retriever": "qa.search.retriever",
    "SearchResult": "qa.records",
    "SilentReporter": "qa.records",
    "Source": "qa.records",
    "Value": "qa.records",
    "ValueSource": "qa.records",
    "__version__": "qa.version",
    "ensure_index": "qa.indexing",
    "evaluate": "qa.search.evaluate",
    "explain_file": "qa.extract.article",
    "index_status": "qa.indexing",
    "load_embedder": "qa.embed.reference",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
