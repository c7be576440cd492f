"""The LangChain retriever: Documents whose page_content is exactly a slice of a source file."""

from __future__ import annotations

import pytest
from framework_checks import QUESTION, check_metadata, expected_passages

from qa.errors import BadInputError


def test_invoke_returns_verbatim_documents_with_their_source(seeds, tmp_path):
    from langchain_core.documents import Document

    from qa.integrations.langchain import NewsQARetriever

    retriever = NewsQARetriever(docs=seeds, index=tmp_path / "idx", model="hash", k=4)
    assert not (tmp_path / "idx").exists()  # made without opening anything: the first query opens the index
    documents = retriever.invoke(QUESTION)
    passages = expected_passages(seeds, tmp_path / "idx", k=4)
    assert len(documents) == len(passages) == 4
    for document, passage in zip(documents, passages, strict=True):
        assert isinstance(document, Document) and document.id == passage["id"]
        check_metadata(document.metadata, passage, document.page_content)
    assert [d.metadata["rank"] for d in documents] == [1, 2, 3, 4]
    assert documents[0].metadata["score"] >= documents[-1].metadata["score"]
    assert retriever.invoke(QUESTION) == documents  # the opened index is reused


def test_filters_are_those_of_the_library(seeds, tmp_path):
    from qa.integrations.langchain import NewsQARetriever

    retriever = NewsQARetriever(docs=seeds, index=tmp_path / "idx", model="hash", k=10, source="dawn")
    documents = retriever.invoke(QUESTION)
    assert documents and [d.metadata["id"] for d in documents] == [
        p["id"] for p in expected_passages(seeds, tmp_path / "idx", k=10, source="dawn")
    ]
    assert all(d.metadata["publisher"] == "Dawn" for d in documents)
    later = NewsQARetriever(docs=seeds, index=tmp_path / "idx", model="hash", since="2030-01-01")
    assert later.invoke(QUESTION) == []


@pytest.mark.parametrize(
    "settings",
    [{"k": 0}, {"mode": "fuzzy"}, {"since": "13/01/2022"}, {"backend": "bogus"}, {"store": "redis://x"}],
)
def test_a_bad_setting_is_the_library_error_when_the_retriever_is_made(settings):
    from qa.integrations.langchain import NewsQARetriever

    with pytest.raises(BadInputError):
        NewsQARetriever(**settings)


def test_an_empty_question_is_the_library_error(seeds, tmp_path):
    from qa.errors import EmptyQuestionError
    from qa.integrations.langchain import NewsQARetriever

    with pytest.raises(EmptyQuestionError):
        NewsQARetriever(docs=seeds, index=tmp_path / "idx", model="hash").invoke("  ")


def test_it_opens_with_every_front_s_options(seeds, tmp_path):
    """store, backend, rebuild and reader open the corpus as the CLI's options do (qa.app.OpenOptions)."""
    pytest.importorskip("milvus_lite")
    from qa.integrations.langchain import NewsQARetriever

    store = f"milvus:{tmp_path / 'news.db'}"
    fast = NewsQARetriever(docs=seeds, index=tmp_path / "idx", model="hash", store=store, reader=False, k=3)
    documents = fast.invoke(QUESTION)
    opened = fast._opened.get()  # noqa: SLF001
    assert opened._engine is not None and opened._reader is None  # noqa: SLF001 - through the mirror, no reader
    from qa import Retriever

    plain = Retriever.open(docs=seeds, index=tmp_path / "idx", model="hash", reader=False)
    assert [d.metadata["id"] for d in documents] == [h.passage.id for h in plain.search(QUESTION, k=3).hits]
