"""The LlamaIndex retriever: TextNodes whose text is exactly a slice of a source file, at its raw offsets."""

from __future__ import annotations

import pytest
from framework_checks import QUESTION, check_metadata, expected_passages

from qa.errors import BadInputError


def test_retrieve_returns_verbatim_nodes_with_their_source(seeds, tmp_path):
    from llama_index.core.schema import MetadataMode, NodeWithScore, TextNode

    from qa.integrations.llama_index import NewsQARetriever

    retriever = NewsQARetriever(docs=seeds, index=tmp_path / "idx", model="hash", k=4)
    assert not (tmp_path / "idx").exists()  # made without opening anything: the first query opens the index
    found = retriever.retrieve(QUESTION)
    passages = expected_passages(seeds, tmp_path / "idx", k=4)
    assert len(found) == len(passages) == 4
    for scored, passage in zip(found, passages, strict=True):
        assert isinstance(scored, NodeWithScore) and isinstance(scored.node, TextNode)
        node = scored.node
        assert node.node_id == passage["id"] and scored.score == pytest.approx(passage["score"], abs=1e-6)
        assert (node.start_char_idx, node.end_char_idx) == (passage["start"], passage["end"])
        check_metadata(node.metadata, passage, node.text)
        # what an LLM is shown: the verbatim text, with the headline and file but not the offsets
        shown = node.get_content(metadata_mode=MetadataMode.LLM)
        assert node.text in shown and passage["source"]["path"] in shown
        assert not any(line.startswith(("start:", "line_start:", "score:")) for line in shown.splitlines())


def test_filters_and_bad_settings_are_those_of_the_library(seeds, tmp_path):
    from qa.integrations.llama_index import NewsQARetriever

    dawn = NewsQARetriever(docs=seeds, index=tmp_path / "idx", model="hash", k=10, source="dawn")
    found = dawn.retrieve(QUESTION)
    assert found and [n.node.node_id for n in found] == [
        p["id"] for p in expected_passages(seeds, tmp_path / "idx", k=10, source="dawn")
    ]
    with pytest.raises(BadInputError):
        NewsQARetriever(mode="fuzzy")
