"""Opening a corpus: one set of options, checked once, for every front (CLI, chat, HTTP, MCP, integrations)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qa.inputs import AUTO_BACKEND, check_backend
from qa.records import Reporter
from qa.search.retriever import Retriever
from qa.storage.milvus import MilvusTarget


@dataclass(frozen=True)
class OpenOptions:
    """Where a corpus and its index are and how to open them; checked when made.

    `docs`: a folder of articles or a .jsonl file (default: the seeds); `index`: the index folder (default: one
    per corpus under index/); `model`: a local sentence-transformers folder (default: the bundled MiniLM);
    `rebuild`: build the index from scratch; `backend`: the encoder a build uses; `store`: a Milvus mirror
    (``milvus:PATH.db`` or ``milvus://HOST:PORT``) kept in step and searched for the candidates; `reader`:
    read the top candidates with the shipped reader (False: retrieval alone, --fast)."""

    docs: str | Path | None = None
    index: str | Path | None = None
    model: str | None = None
    rebuild: bool = False
    backend: str = AUTO_BACKEND
    store: str | None = None
    reader: bool = True

    def __post_init__(self) -> None:
        check_backend(self.backend, "--backend")
        if self.store is not None:
            MilvusTarget.parse(self.store)  # a bad address is said before anything is built


def open_retriever(options: OpenOptions, reporter: Reporter | None = None) -> Retriever:
    """The corpus's retriever, its index built or brought in step first (and its mirror, with a store)."""
    return Retriever.open(
        docs=options.docs,
        index=options.index,
        model=options.model,
        rebuild=options.rebuild,
        reporter=reporter,
        backend=options.backend,
        store=options.store,
        reader=options.reader,
    )
