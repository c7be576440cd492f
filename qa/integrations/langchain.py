"""A LangChain retriever over the news articles: `NewsQARetriever(docs="path/to/articles").invoke("...")`.

Each `Document`'s `page_content` is exactly a passage of a source file, never reworded, and its metadata says
where: `path`, `start`/`end` (raw-file offsets), lines, the source's title, publisher, date and byline, the
score and the highlighted sentence (see `qa.integrations.common.hit_metadata`). Needs the `langchain` extra.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qa.app import AUTO_BACKEND, DEFAULT_K, DEFAULT_MODE, OpenOptions
from qa.errors import MissingExtraError
from qa.integrations.common import LazyRetriever, check_settings, retrieve

try:
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever
    from pydantic import PrivateAttr
except ImportError:
    raise MissingExtraError("the LangChain retriever", "langchain", "langchain-core") from None

__all__ = ["NewsQARetriever"]


class NewsQARetriever(BaseRetriever):
    """Verbatim passages of a corpus of news articles (a folder or a .jsonl file; default seeds/).

    The index is opened, and built or updated if needed, on the first query, then reused. `docs`, `index`,
    `model`, `store`, `backend`, `rebuild` and `reader` open it as every front does (`qa.app.OpenOptions`); `k`,
    `mode` and the filters `source`, `since`, `until` are those of `qa.Retriever.search`; a bad one raises the
    library's `BadInputError` when the retriever is made.
    """

    docs: str | Path | None = None
    index: str | Path | None = None
    model: str | None = None
    store: str | None = None
    backend: str = AUTO_BACKEND
    rebuild: bool = False
    reader: bool = True
    k: int = DEFAULT_K
    mode: str = DEFAULT_MODE
    source: str | None = None
    since: str | None = None
    until: str | None = None

    _opened: LazyRetriever = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        super().model_post_init(context)
        check_settings(self.k, self.mode, self.since, self.until)
        self._opened = LazyRetriever(
            OpenOptions(self.docs, self.index, self.model, self.rebuild, self.backend, self.store, self.reader)
        )

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        found = retrieve(self._opened.get(), query, self.k, self.mode, self.source, self.since, self.until)
        return [Document(page_content=hit.text, metadata=metadata, id=hit.passage.id) for hit, metadata in found]
