"""Verbatim at answer time: whatever happened to the index or the files, no answer quotes what a file does
not say. A damaged store is caught, left out and rebuilt; an edited file is left out until the update."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from qa.ingest.corpus import decode
from qa.storage.generations import CURRENT, DAMAGED, DOCUMENTS, MANIFEST, STORE

QUESTION = "When did the withdrawal finish?"
QUESTIONS = [QUESTION, "How many troops were sent?", "Who commanded the peacekeepers?", "What did protesters do?"]


def generation(index: Path) -> Path:
    return index / (index / CURRENT).read_text(encoding="utf-8").strip()


def assert_verbatim(result) -> None:
    """Every hit is the exact slice of its file as it is on disk now."""
    for hit in result.hits:
        with open(hit.source.path, "rb") as fh:
            text, _ = decode(fh.read())
        assert text[hit.start : hit.end] == hit.text, f"{hit.source.path}:{hit.line_start} is not verbatim"


def without_checksums(gen: Path) -> None:
    """As an index written before checksums were recorded: only the answer-time check can see an edit."""
    manifest = json.loads((gen / MANIFEST).read_text(encoding="utf-8"))
    del manifest["checksums"]
    (gen / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def test_a_same_size_edit_of_the_store_is_caught_when_the_index_loads(seeds, tmp_path, open_hashed):
    index = tmp_path / "idx"
    open_hashed(seeds, index)
    store = generation(index) / STORE
    store.write_bytes(store.read_bytes().replace(b"by January 19", b"by January 29"))
    result = open_hashed(seeds, index).search(QUESTION, k=10)  # rebuilt
    assert "January 29" not in json.dumps(result.to_dict()) and not result.warnings
    assert any("by January 19" in hit.text for hit in result.hits)
    assert_verbatim(result)


def test_a_same_size_edit_of_the_store_is_never_quoted_and_the_index_is_rebuilt(seeds, tmp_path, open_hashed):
    index = tmp_path / "idx"
    open_hashed(seeds, index)
    store = generation(index) / STORE
    data = store.read_bytes()
    assert b"by January 19" in data
    store.write_bytes(data.replace(b"by January 19", b"by January 29"))
    without_checksums(generation(index))

    retriever = open_hashed(seeds, index)  # sizes and manifest still agree: it loads
    result = retriever.search(QUESTION, k=10)
    assert_verbatim(result)
    assert all("January 29" not in hit.text for hit in result.hits)
    assert "January 29" not in json.dumps(result.to_dict()), "nor in the values, the answer or the highlights"
    assert any("the index is damaged" in warning for warning in result.warnings), result.warnings
    assert (generation(index) / DAMAGED).is_file(), "marked, so that the next use rebuilds"

    rebuilt = open_hashed(seeds, index)
    again = rebuilt.search(QUESTION, k=10)
    assert not again.warnings and (generation(index) / STORE).read_bytes().count(b"by January 29") == 0
    assert any("by January 19" in hit.text for hit in again.hits), "the passage is back, verbatim"
    assert_verbatim(again)


def test_swapped_document_paths_never_show_another_files_text(seeds, tmp_path, open_hashed):
    index = tmp_path / "idx"
    open_hashed(seeds, index)
    documents = generation(index) / DOCUMENTS
    rows = json.loads(documents.read_text(encoding="utf-8"))
    first, second = rows[0][1], rows[1][1]
    assert len(first) == len(second), "two seed names of the same length (the manifest records sizes)"
    swapped = documents.read_text(encoding="utf-8").replace(first, "\0").replace(second, first).replace("\0", second)
    documents.write_text(swapped, encoding="utf-8")
    without_checksums(generation(index))

    retriever = open_hashed(seeds, index)
    for question in QUESTIONS:
        result = retriever.search(question, k=10)
        assert_verbatim(result)


@pytest.mark.parametrize("seed", range(6))
def test_random_byte_flips_in_the_store_never_reach_an_answer(seeds, tmp_path, open_hashed, seed):
    index = tmp_path / "idx"
    open_hashed(seeds, index)
    store = generation(index) / STORE
    data = bytearray(store.read_bytes())
    rng = random.Random(seed)
    for _ in range(8):
        at = rng.randrange(len(data) // 4, len(data))  # past the header: flips that still let the file load
        data[at] = (data[at] + rng.randrange(1, 256)) % 256
    store.write_bytes(bytes(data))
    if seed % 2:  # half as an older index: only the answer-time check stands between the flips and an answer
        without_checksums(generation(index))
    try:
        retriever = open_hashed(seeds, index)
        results = [retriever.search(question, k=10) for question in QUESTIONS]
    except Exception as exc:  # noqa: BLE001 - a flip the database notices is a clear, typed error
        from qa import QAError

        assert isinstance(exc, QAError), f"unexpected {type(exc).__name__}: {exc}"
        return
    for result in results:
        assert_verbatim(result)


def test_a_file_edited_under_an_open_retriever_is_left_out_with_the_remedy(seeds, tmp_path, open_hashed):
    retriever = open_hashed(seeds, tmp_path / "idx")
    before = retriever.search(QUESTION, k=10)
    edited = Path(before.hits[0].source.path)
    text = edited.read_text(encoding="utf-8")
    edited.write_text(text.replace("the", "a"), encoding="utf-8")  # the article now says something else
    after = retriever.search(QUESTION, k=10)
    assert_verbatim(after)
    assert all(Path(hit.source.path) != edited for hit in after.hits)
    assert any("changed since it was indexed" in w and "index update" in w for w in after.warnings), after.warnings
    assert not (generation(tmp_path / "idx") / DAMAGED).exists(), "an edited file is no damage of the index"


def test_a_deleted_file_is_left_out(seeds, tmp_path, open_hashed):
    retriever = open_hashed(seeds, tmp_path / "idx")
    gone = Path(retriever.search(QUESTION, k=1).hits[0].source.path)
    gone.unlink()
    result = retriever.search(QUESTION, k=10)
    assert result.hits and all(Path(hit.source.path) != gone for hit in result.hits)
    assert any("can no longer be read" in warning for warning in result.warnings)


def test_the_command_line_says_what_it_left_out(seeds, tmp_path, cli, hash_model):
    index = tmp_path / "idx"
    assert cli(QUESTION, "--docs", str(seeds), "--index", str(index), "-q")[0] == 0
    store = generation(index) / STORE
    store.write_bytes(store.read_bytes().replace(b"by January 19", b"by January 29"))
    without_checksums(generation(index))
    code, out, err = cli(QUESTION, "--docs", str(seeds), "--index", str(index), "-q", "--json", "-k", "10")
    assert code == 0 and "January 29" not in out
    assert "warning: left out passages of" in err and "the index is damaged" in err
    assert json.loads(out)["warnings"], "the JSON carries the same lines"
    shutil.rmtree(index)


def test_an_open_retriever_follows_updates_and_rebuilds_of_its_index(seeds, tmp_path, open_hashed):
    """As `ask.py serve` beside `ask.py index update`: the next question answers from the new generation."""
    index = tmp_path / "idx"
    serving = open_hashed(seeds, index)
    first = generation(index)
    edited = sorted(seeds.glob("*.txt"))[2]
    text = edited.read_text(encoding="utf-8")
    assert "by January 19" in text
    edited.write_text(text.replace("by January 19", "by Wednesday, January 19,"), encoding="utf-8")
    during = serving.search(QUESTION, k=10)  # the file changed, the index not yet: left out, said so
    assert_verbatim(during)
    assert any("changed since it was indexed" in warning for warning in during.warnings), during.warnings
    open_hashed(seeds, index)  # another user updates the index
    assert generation(index) != first
    after = serving.search(QUESTION, k=10)
    assert not after.warnings and serving.index_path == generation(index)
    assert any("by Wednesday, January 19," in hit.text for hit in after.hits), "the new text, from the new build"
    assert_verbatim(after)
    from qa import Retriever
    from qa.embed import HashEmbedder

    Retriever.open(docs=seeds, index=index, embedder=HashEmbedder(), rebuild=True)
    rebuilt = serving.search(QUESTION, k=10)
    assert serving.index_path == generation(index) and not rebuilt.warnings
    assert_verbatim(rebuilt)
    assert serving.document_count == 5 and serving.passage(after.hits[0].passage.id) is not None


def test_a_file_too_large_to_decode_is_trusted_unchanged_and_left_out_changed(tmp_path, open_hashed, monkeypatch):
    import qa.search.verify

    monkeypatch.setattr(qa.search.verify, "DECODED_LIMIT", 0)  # every file counts as large
    corpus = tmp_path / "news.jsonl"
    records = [{"id": f"r{i}", "text": f"Report {i}: the withdrawal finished on January {10 + i}."} for i in range(5)]
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    retriever = open_hashed(corpus)
    shown = retriever.search(QUESTION, k=5)
    assert shown.hits and not shown.warnings
    with corpus.open("a", encoding="utf-8") as out:
        out.write(json.dumps({"id": "r9", "text": "A later report."}) + "\n")
    changed = retriever.search(QUESTION, k=5)
    assert not changed.hits and any("changed since it was indexed" in w for w in changed.warnings)


def test_a_corpus_of_one_article_file_is_answered_and_checked(seeds, tmp_path, open_hashed):
    article = tmp_path / "one.txt"
    article.write_bytes(next(seeds.glob("004_*.txt")).read_bytes())
    retriever = open_hashed(article, tmp_path / "index")
    result = retriever.search("Who commanded the contingent?", k=3)
    assert result.hits and not result.warnings  # the file is the corpus: its passages are its slices
    assert_verbatim(result)
    article.write_text(article.read_text(encoding="utf-8").replace("contingent", "kontingent"), encoding="utf-8")
    changed = retriever.search("Who commanded the contingent?", k=3)
    assert changed.warnings and "changed since it was indexed" in changed.warnings[0]
    text = article.read_text(encoding="utf-8")  # what is still shown is a slice of the file as it is now
    assert all(text[hit.start : hit.end] == hit.text and "contingent" not in hit.text for hit in changed.hits)
