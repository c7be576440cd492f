"""`Retriever.passage_context`: a passage among its neighbours, the one answer behind the chat's /open, the
HTTP `/passages/{id}/context` and MCP's `read_passage`."""

from __future__ import annotations


def test_a_passage_among_its_neighbours(seeds, open_hashed):
    retriever = open_hashed(seeds, reader=False)
    hit = retriever.search("How many troops did the CSTO send?").hits[0]
    article = retriever.document_passages(hit.passage.doc_key)
    at = [p.id for p in article].index(hit.passage.id)

    found = retriever.passage_context(hit.passage.id, 1, 1)
    assert found is not None and found.passages[found.at] == hit.passage
    assert found.passages == article[max(0, at - 1) : at + 2] and found.total == len(article)
    assert (found.more_before, found.more_after) == (at > 1, at + 2 < len(article))
    assert found.to_dict()["passages"][found.at]["current"] is True
    assert sum(p["current"] for p in found.to_dict()["passages"]) == 1

    whole = retriever.passage_context(hit.passage.id, None, None)
    assert whole is not None and whole.passages == article and not whole.more_before and not whole.more_after
    alone = retriever.passage_context(hit.passage.id, 0, 0)
    assert alone is not None and alone.passages == [hit.passage]


def test_an_unknown_or_changed_passage_has_no_context(seeds, open_hashed):
    retriever = open_hashed(seeds, reader=False)
    assert retriever.passage_context("no-such-id") is None
    hit = retriever.search("How many troops did the CSTO send?").hits[0]
    path = seeds / hit.passage.doc_key
    path.write_text(path.read_text(encoding="utf-8").replace("troops", "forces"), encoding="utf-8")
    assert retriever.passage_context(hit.passage.id) is None  # its file no longer holds it: nothing quoted
