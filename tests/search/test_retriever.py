"""The Python API: typed hits that are exact slices of their sources, modes, limits, threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from qa import BadInputError, EmptyQuestionError, Hit, SearchResult
from qa.ingest.corpus import decode
from qa.search.ranking import DENSE_WEIGHT, fuse, in_corpus_order


def test_hits_are_exact_slices_of_their_files(seeds, tmp_path, open_hashed):
    retriever = open_hashed(seeds)
    result = retriever.search("When did the withdrawal finish?", k=5)
    assert isinstance(result, SearchResult) and len(result.hits) == 5
    for hit in result.hits:
        assert isinstance(hit, Hit)
        with open(hit.source.path, "rb") as fh:
            text, _ = decode(fh.read())
        assert text[hit.start : hit.end] == hit.text
        assert text.count("\n", 0, hit.start) + 1 == hit.line_start
        assert text.count("\n", 0, hit.end) + 1 == hit.line_end
    assert [h.rank for h in result.hits] == [1, 2, 3, 4, 5]
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)


def test_every_indexed_passage_is_an_exact_slice(seeds, tmp_path, open_hashed):
    retriever = open_hashed(seeds)
    count = 0
    for passage, source in retriever.passages():
        with open(source.path, "rb") as fh:
            text, _ = decode(fh.read())
        assert text[passage.start : passage.end] == passage.text
        count += 1
    assert count == len(retriever) > 0


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_modes_rank_the_matching_article_first(corpus, tmp_path, mode, open_hashed):
    retriever = open_hashed(corpus)
    hit = retriever.search("What happened to police vehicles?", k=1, mode=mode).hits[0]
    assert hit.source.path.endswith("world/b.md")
    assert (hit.bm25_score is not None) == (mode != "dense")
    assert (hit.dense_score is not None) == (mode != "bm25")


def test_k_larger_than_the_index_returns_everything(corpus, tmp_path, open_hashed):
    retriever = open_hashed(corpus)
    assert len(retriever.search("troops", k=50).hits) == len(retriever)


@pytest.mark.parametrize(
    ("question", "k", "mode", "error"),
    [
        ("", 3, "hybrid", EmptyQuestionError),
        ("  \n", 3, "hybrid", EmptyQuestionError),
        ("?", 3, "hybrid", EmptyQuestionError),  # nothing to search for: refused like a blank one
        (" ... !", 3, "hybrid", EmptyQuestionError),
        ("q", 0, "hybrid", BadInputError),
        ("q", 3, "sparse", BadInputError),
    ],
)
def test_bad_arguments_raise_typed_errors(corpus, tmp_path, question, k, mode, error, open_hashed):
    retriever = open_hashed(corpus)
    with pytest.raises(error):
        retriever.search(question, k=k, mode=mode)


def test_search_is_deterministic_and_thread_safe(seeds, tmp_path, open_hashed):
    retriever = open_hashed(seeds)
    questions = ["troops", "fuel prices", "Almaty airport", "Putin clockwork", "detained people"] * 8
    serial = [retriever.search(q, k=4).to_dict() for q in questions]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(lambda q: retriever.search(q, k=4).to_dict(), questions))
    assert parallel == serial


def test_jsonl_corpus_reports_record_ids(tmp_path, open_hashed):
    docs = tmp_path / "news.jsonl"
    docs.write_text(
        '{"id": "n1", "text": "Fuel prices rose sharply.", "title": "Fuel", "published": "Jan 13, 2022", '
        '"url": "https://example.org/fuel#top"}\n'
        '{"id": "n2", "text": "Troops left Almaty."}\n',
        encoding="utf-8",
    )
    hit = open_hashed(docs).search("fuel prices", k=1).hits[0]
    # the record's URL, opened at the quote by a text fragment (its own fragment replaced)
    assert hit.citation().url == "https://example.org/fuel#:~:text=Fuel%20prices%20rose%20sharply."
    assert hit.citation().text == (
        "13 January 2022: “Fuel prices rose sharply.” (Fuel; "
        f"{docs}#n1, line 1) https://example.org/fuel#:~:text=Fuel%20prices%20rose%20sharply."
    )
    assert hit.source.to_dict() == {
        "path": str(docs),
        "id": "n1",
        "title": "Fuel",
        "publisher": None,
        "published": "2022-01-13",
        "byline": None,
        "url": "https://example.org/fuel#top",
    }


def test_fusion_modes_and_the_corpus_order_of_ties():
    cosine = {1: 0.9, 2: 0.5, 3: 0.1}
    bm25 = {1: 0.0, 2: 7.0, 3: 3.0}
    assert fuse(cosine, bm25, 10.0, "dense") == cosine
    assert fuse(cosine, bm25, 10.0, "bm25") == pytest.approx({1: 0.0, 2: 0.7, 3: 0.3})  # BM25 over its ceiling
    w = DENSE_WEIGHT
    expected = {1: w * 0.9, 2: w * 0.5 + (1 - w) * 0.7, 3: w * 0.1 + (1 - w) * 0.3}
    assert fuse(cosine, bm25, 10.0, "hybrid") == pytest.approx(expected)
    # absolute: another candidate list for the same question leaves a passage's score as it was
    assert fuse({2: 0.5}, {2: 7.0}, 10.0, "hybrid") == pytest.approx({2: w * 0.5 + (1 - w) * 0.7})
    positions = {5: (1, 0), 4: (0, 10), 7: (0, 2)}  # row -> (document's place in the corpus, offset)
    ranked = [(5, 1.0), (4, 1.0), (7, 1.0), (9, 0.5)]
    assert in_corpus_order(ranked, 3, lambda rows: {row: positions[row] for row in rows}) == [
        (7, 1.0),
        (4, 1.0),
        (5, 1.0),
        (9, 0.5),
    ]


def test_the_document_api_the_fronts_use(seeds, tmp_path, open_hashed):
    retriever = open_hashed(seeds)
    documents = retriever.documents()
    assert retriever.document_count == len(documents) == 5
    assert [d.key for d in documents] == sorted(d.key for d in documents)  # corpus order: file names here
    assert sum(d.passages for d in documents) == len(retriever)
    every = {}
    for passage, source in retriever.passages():
        every.setdefault(passage.doc_key, []).append(passage)
        assert retriever.source(passage.doc_key) == source
    for document in documents:
        listed = retriever.document_passages(document.key)
        assert listed == sorted(every[document.key], key=lambda p: p.start)
        assert len(listed) == document.passages
    assert retriever.document_passages("no such document") == []


def test_passages_are_found_by_id_shown_or_not(seeds, tmp_path, open_hashed):
    retriever = open_hashed(seeds)
    shown = retriever.search("How many troops did the CSTO send?", k=2).hits[0].passage
    assert retriever.passage(shown.id) == shown  # remembered from the answer
    fresh = open_hashed(seeds)  # nothing shown yet: found in the database
    for passage, _ in list(fresh.passages())[::7]:
        assert fresh.passage(passage.id) == passage
    assert fresh.passage("0000000000000000") is None


@pytest.mark.parametrize(
    "question",
    ["When did the withdrawal finish?", "Who commanded the CSTO contingent?", "What is the capital of France?"],
)
def test_confidence_does_not_move_with_k(seeds, open_hashed, question):
    retriever = open_hashed(seeds)
    results = [retriever.search(question, k=k) for k in (1, 3, 5, 10, 30)]
    assert len({(r.confidence, r.answered, r.evidence) for r in results}) == 1
    # the first hits are the same whatever k is
    assert all(r.hits[0].passage == results[0].hits[0].passage for r in results)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_a_passage_scores_the_same_whatever_else_is_asked_for(seeds, open_hashed, mode):
    """Scores are absolute (no min-max over the candidates): k and filters change which passages are shown,
    never the score of one that is; in hybrid mode every hit carries both its cosine and its BM25."""
    retriever = open_hashed(seeds, reader=False)  # retrieval's own scores (the reader's: the test below)
    question = "When did the withdrawal of the troops finish?"
    wide = {hit.passage.id: hit.score for hit in retriever.search(question, k=10, mode=mode).hits}
    narrow = retriever.search(question, k=1, mode=mode).hits[0]
    assert narrow.score == pytest.approx(wide[narrow.passage.id])
    filtered = retriever.search(question, k=3, mode=mode, source="003").hits
    assert filtered and all(
        hit.score == pytest.approx(wide[hit.passage.id]) for hit in filtered if hit.passage.id in wide
    )
    for hit in retriever.search(question, k=10, mode=mode).hits:
        assert -1.0 <= hit.score <= 1.0
        if mode == "hybrid":
            assert hit.dense_score is not None and hit.bm25_score is not None
            expected = DENSE_WEIGHT * hit.dense_score + (1 - DENSE_WEIGHT) * hit.bm25_score / _ceiling(
                retriever, question
            )
            assert hit.score == pytest.approx(expected, abs=1e-6)


def test_with_the_reader_a_read_passage_scores_the_same_whatever_else_is_asked_for(seeds, open_hashed):
    """The reader reads each passage window on its own, so a passage it read has one probability for a question,
    whatever k and the filters are; the hits are in the order of those probabilities."""
    retriever = open_hashed(seeds)
    question = "When did the withdrawal of the troops finish?"
    wide = retriever.search(question, k=10).hits
    read = {hit.passage.id: hit.reader_score for hit in wide if hit.reader_score is not None}
    assert len(read) >= 5
    scores = [hit.score for hit in wide]
    assert scores == sorted(scores, reverse=True)
    for hit in [*retriever.search(question, k=1).hits, *retriever.search(question, k=3, source="003").hits]:
        if hit.reader_score is not None and hit.passage.id in read:
            assert hit.reader_score == pytest.approx(read[hit.passage.id], abs=1e-6)
            assert hit.score == hit.reader_score


def _ceiling(retriever, question: str) -> float:
    scored = retriever._index.lexical.scored(question)
    assert scored is not None
    return scored.ceiling
