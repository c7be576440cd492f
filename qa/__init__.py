"""Question answering over news articles with verbatim, cited passages: no generated text, ever.

The public API: open a `Retriever` over a folder of articles (or a .jsonl file) and `search` it; keep an
index up to date with `ensure_index`, look at it with `index_status`, score it with `evaluate`, and see
what article extraction keeps of a file with `explain_file`. Everything else is internal.
"""

from qa.embed import HashEmbedder, load_embedder
from qa.errors import (
    BackendError,
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
from qa.extract.article import explain_file
from qa.indexing import ensure_index, index_status
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
