"""A LlamaIndex retriever over the news articles: `NewsQARetriever(docs="path/to/articles").retrieve("...")`.

Each node is a `TextNode` whose text is exactly a passage of a source file, never reworded, with
`start_char_idx`/`end_char_idx` its raw-file offsets and the same metadata as the LangChain retriever
(`qa.integrations.common.hit_metadata`); its score is the ranking score. Needs the `llamaindex` extra.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qa.app import AUTO_BACKEND, DEFAULT_K, DEFAULT_MODE, OpenOptions
from qa.errors import MissingExtraError
from qa.integrations.common import LazyRetriever, check_settings, retrieve

try:
    from llama_index.core.callbacks import CallbackManager
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
except ImportError:
    raise MissingExtraError("the LlamaIndex retriever", "llamaindex", "llama-index-core") from None

__all__ = ["NewsQARetriever"]

# where the passage is, for citing it: kept from the text an LLM or an embedding sees (titles and dates stay)
_LOCATION_KEYS = ["id", "source_id", "start", "end", "line_start", "line_end", "rank", "score", "highlight", "answered"]


class NewsQARetriever(BaseRetriever):
    """Verbatim passages of a corpus of news articles (a folder or a .jsonl file; default seeds/).

    The index is opened, and built or updated if needed, on the first query, then reused. `docs`, `index`,
    `model`, `store`, `backend`, `rebuild` and `reader` open it as every front does (`qa.app.OpenOptions`); `k`,
    `mode` and the filters `source`, `since`, `until` are those of `qa.Retriever.search`; a bad one raises the
    library's `BadInputError` here.
    """

    def __init__(
        self,
        docs: str | Path | None = None,
        index: str | Path | None = None,
        *,
        model: str | None = None,
        store: str | None = None,
        backend: str = AUTO_BACKEND,
        rebuild: bool = False,
        reader: bool = True,
        k: int = DEFAULT_K,
        mode: str = DEFAULT_MODE,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        callback_manager: CallbackManager | None = None,
        verbose: bool = False,
    ) -> None:
        check_settings(k, mode, since, until)
        super().__init__(callback_manager=callback_manager, verbose=verbose)
        self.k, self.mode, self.source, self.since, self.until = k, mode, source, since, until
        self._opened = LazyRetriever(OpenOptions(docs, index, model, rebuild, backend, store, reader))

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        found = retrieve(
            self._opened.get(), query_bundle.query_str, self.k, self.mode, self.source, self.since, self.until
        )
        return [
            NodeWithScore(node=_node(hit.passage.id, hit.text, metadata), score=hit.score) for hit, metadata in found
        ]


def _node(passage_id: str, text: str, metadata: dict[str, Any]) -> TextNode:
    return TextNode(
        id_=passage_id,
        text=text,
        metadata=metadata,
        start_char_idx=metadata["start"],
        end_char_idx=metadata["end"],
        excluded_llm_metadata_keys=list(_LOCATION_KEYS),
        excluded_embed_metadata_keys=list(_LOCATION_KEYS),
    )
