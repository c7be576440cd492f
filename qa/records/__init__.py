"""The typed records that cross module borders, by stage: documents.py (corpus files, documents, extraction,
chunking), hits.py (passages, sources, hits, citations), answers.py (results, evidence, values, the exact answer,
turns), index.py (what an index holds), evaluation.py, protocols.py (Embedder, Reporter). Import them from here."""

from __future__ import annotations

from qa.records.answers import PASSAGES_PER_TURN, Answer, Evidence, SearchResult, Turn, Value, ValueSource
from qa.records.documents import (
    Block,
    ChunkSettings,
    Corpus,
    CorpusFile,
    Document,
    DocumentMeta,
    Extraction,
    IngestWarning,
)
from qa.records.evaluation import GradedQuestion, QuestionScore, Report
from qa.records.hits import (
    AlsoIn,
    Citation,
    Highlight,
    Hit,
    Passage,
    Source,
    cite,
    long_date,
    one_line,
    with_text_fragment,
)
from qa.records.index import Changes, IndexedDocument, IndexStatus, StoredPassage
from qa.records.protocols import Embedder, Progress, Reporter, SilentReporter

__all__ = [
    "AlsoIn",
    "Answer",
    "Block",
    "Changes",
    "ChunkSettings",
    "Citation",
    "Corpus",
    "CorpusFile",
    "Document",
    "DocumentMeta",
    "Embedder",
    "Evidence",
    "Extraction",
    "GradedQuestion",
    "Highlight",
    "Hit",
    "IndexStatus",
    "IndexedDocument",
    "IngestWarning",
    "PASSAGES_PER_TURN",
    "Passage",
    "Progress",
    "QuestionScore",
    "Report",
    "Reporter",
    "SearchResult",
    "SilentReporter",
    "Source",
    "StoredPassage",
    "Turn",
    "Value",
    "ValueSource",
    "cite",
    "long_date",
    "one_line",
    "with_text_fragment",
]
