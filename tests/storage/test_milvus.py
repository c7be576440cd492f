"""The Milvus mirror of a generation (qa/storage/milvus/), on Milvus Lite under tmp_path: what it stores reads
back exactly, its searches agree with the embedded store's, filters keep what qa/search/filters.py keeps, sync is
incremental, and an unreachable or missing Milvus is a typed error, never a hang."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import faiss
import numpy as np
import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from qa.embed import HashEmbedder  # noqa: E402
from qa.errors import BadInputError, MissingExtraError  # noqa: E402
from qa.search.filters import allowed_rows  # noqa: E402
from qa.search.sources import Sources  # noqa: E402
from qa.storage.generations import StoredIndex, read_index  # noqa: E402
from qa.storage.milvus import (  # noqa: E402
    DEFAULT_COLLECTION,
    MilvusStore,
    MilvusTarget,
    StoreMismatchError,
    StoreUnavailableError,
    filter_expression,
)

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = [
    "When did the withdrawal finish?",
    "How many troops did the CSTO send to Kazakhstan?",
    "Who is the president of Kazakhstan?",
    "Why did protests start in Kazakhstan?",
    "What did Tokayev say about the coup attempt?",
]


def _index(docs: Path, folder: Path) -> StoredIndex:
    from qa import Retriever

    Retriever.open(docs=docs, index=folder, embedder=HashEmbedder())
    stored = read_index(folder)
    assert stored is not None
    return stored


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """The seeds' generation (hash model) and a Milvus Lite store synced from it, shared by the module."""
    folder = tmp_path_factory.mktemp("milvus")
    shutil.copytree(ROOT / "seeds", folder / "seeds")
    index = _index(folder / "seeds", folder / "idx")
    store = MilvusStore.open(f"milvus:{folder / 'seeds.db'}", index.manifest.model.dim)
    began = time.perf_counter()
    report = store.sync(index)
    seconds = time.perf_counter() - began
    print(f"\nsync: {report.passages} passages in {seconds:.2f} s ({report.passages / seconds:.0f} rows/s)")
    yield folder, index, store, report
    store.close()
    index.close()


def _question_vector(question: str) -> np.ndarray:
    return HashEmbedder().embed([question])[0].astype(np.float32)


def test_parse():
    lite = MilvusTarget.parse("milvus:store/x.db")
    assert lite.local and lite.uri == str(Path.cwd() / "store" / "x.db") and lite.collection == DEFAULT_COLLECTION
    assert MilvusTarget.parse("milvus:/abs/y.db#news_2").collection == "news_2"
    server = MilvusTarget.parse("milvus://db.example:19530")
    assert not server.local and server.uri == "http://db.example:19530"
    assert MilvusTarget.parse(str(server)) == server and MilvusTarget.parse(str(lite)) == lite
    for bad in ("x.db", "milvus:x.txt", "milvus:", "milvus://host", "milvus://:19530", "milvus:x.db#1bad", "faiss:x"):
        with pytest.raises(BadInputError) as error:
            MilvusTarget.parse(bad)
        assert "\n" not in str(error.value)


def test_every_passage_reads_back_exactly(seeded):
    folder, index, store, report = seeded
    assert report.added_documents == len(index.documents) == 5 and report.removed_documents == 0
    assert report.passages == index.count == store.count()
    rows = [row for row, _ in index.iter_passages()]
    stored = store.passages(rows)
    assert stored == index.passages(rows)
    for passage in stored.values():  # each is its file's exact slice
        text = (folder / "seeds" / passage.doc_key).read_text(encoding="utf-8")
        assert text[passage.start : passage.end] == passage.text
        assert passage.line_start == text.count("\n", 0, passage.start) + 1
    mirrored, reference = store.sentences(rows), index.sentences(rows)
    for row in rows:
        assert np.array_equal(mirrored[row][0], reference[row][0]) and mirrored[row][0].dtype == np.int64
        assert np.array_equal(mirrored[row][1], reference[row][1]) and mirrored[row][1].dtype == np.float16
    vectors, exact = store.vectors_of(rows), index.vectors_of(rows)
    assert all(np.array_equal(vectors[row], exact[row]) for row in rows)
    assert store.documents() == index.documents and list(store.documents()) == list(index.documents)
    assert store.manifest is not None and store.manifest["model"] == "hash" and store.manifest["dim"] == 256


def test_dense_equals_faiss_flat(seeded):
    _, index, store, _ = seeded
    rows = np.array([row for row, _ in index.iter_passages()], dtype=np.int64)
    vectors = index.vectors_of(rows.tolist())
    flat = faiss.IndexIDMap(faiss.IndexFlatIP(store.dim))
    flat.add_with_ids(np.stack([vectors[int(row)] for row in rows]), rows)
    for question in QUESTIONS:
        vector = _question_vector(question)
        scores, expected = flat.search(vector[None, :], 10)
        got = store.dense(vector, 10)
        assert np.allclose([hit.score for hit in got], scores[0], atol=1e-5)
        assert [hit.row for hit in got] == expected[0].tolist() or _ties(scores[0])
        passages = index.passages(hit.row for hit in got)  # each hit names the passage at its row
        assert [hit.passage_id for hit in got] == [passages[hit.row].id for hit in got]


def _ties(scores: np.ndarray) -> bool:
    return bool(np.any(np.isclose(np.diff(scores), 0.0, atol=1e-6)))


def test_lexical_agrees_with_our_bm25(seeded):
    _, index, store, _ = seeded
    overlaps = []
    for question in QUESTIONS:
        ours, _ = index.lexical.search(question, 5)
        theirs = store.lexical(question, 5)
        assert theirs and all(hit.score > 0 for hit in theirs)
        assert [hit.score for hit in theirs] == sorted((hit.score for hit in theirs), reverse=True)
        overlaps.append(len(set(ours.tolist()) & {hit.row for hit in theirs}) / 5)
    print(f"\nBM25 top-5 overlap with ours: {overlaps} (mean {np.mean(overlaps):.2f})")
    # Same words (our stems), same k1 and b, but Milvus counts document frequencies per segment and over what the
    # segment holds (ours: bm25s's over the whole generation), so scores and near-ties can differ; one flushed sync
    # of the seeds is a segment or two, and the top passages still agree mostly.
    assert np.mean(overlaps) >= 0.6
    assert store.lexical("the of and", 5) == []  # stopwords only: no BM25 word


def test_hybrid_fuses_both(seeded):
    _, index, store, _ = seeded
    question = "How many troops did the CSTO send to Kazakhstan?"
    vector = _question_vector(question)
    weighted = store.hybrid(vector, question, 10)
    rrf = store.hybrid(vector, question, 10, ranker="rrf")
    candidates = {hit.row for hit in store.dense(vector, 10)} | {hit.row for hit in store.lexical(question, 10)}
    for fused in (weighted, rrf):
        assert 0 < len(fused) <= 10 and {row for row, _ in fused} <= candidates
        assert [score for _, score in fused] == sorted((score for _, score in fused), reverse=True)
    assert store.hybrid(vector, "the of", 5)  # no BM25 word: the dense leg alone
    with pytest.raises(BadInputError):
        store.hybrid(vector, question, 5, ranker="max")


@pytest.mark.parametrize(
    ("source", "since", "until"),
    [
        ("reuters", None, None),  # a byline
        ("DAWN", None, None),  # a publisher, any case
        ("coup attempt", None, None),  # a title
        ("003_a47c", None, None),  # a path
        (None, "2022-01-14", None),
        (None, None, "2022-01-13"),
        ("kazakhstan", "2022-01-13", "2022-01-13"),
        ("no such publisher", None, None),
        ("50%_off", None, None),  # like's wildcards are taken literally
    ],
)
def test_filters_keep_what_ours_keep(seeded, source, since, until):
    folder, index, store, _ = seeded
    expected = allowed_rows(index, Sources(index, "folder", str(folder / "seeds")), source, since, until)
    assert expected is not None
    vector = _question_vector("troops leave Kazakhstan")
    kept = {hit.row for hit in store.dense(vector, 100, source=source, since=since, until=until)}
    assert kept == set(expected.tolist())
    words = {hit.row for hit in store.lexical("troops", 100, source=source, since=since, until=until)}
    assert words <= kept
    fused = {row for row, _ in store.hybrid(vector, "troops", 100, source=source, since=since, until=until)}
    assert fused <= kept
    if source == "no such publisher":
        assert kept == set() and words == set() and fused == set()


def test_filter_expression_quotes_user_input():
    assert filter_expression(None, None, None) == ""
    assert filter_expression(' Say "hi" ', None, None) == 'haystack_lc like "%say \\"hi\\"%"'
    assert 'published != ""' in filter_expression(None, None, "2022-01-31")
    with pytest.raises(BadInputError):
        filter_expression(None, '2022" or row >= 0', None)


def test_sync_again_is_a_no_op_and_a_reopen_finds_everything(seeded):
    folder, index, store, _ = seeded
    again = store.sync(index)
    assert (again.added_documents, again.removed_documents, again.passages) == (0, 0, 0)
    assert again.kept_documents == 5
    reopened = MilvusStore.open(f"milvus:{folder / 'seeds.db'}", store.dim)  # the same .db, another store object
    try:
        assert reopened.count() == index.count and reopened.documents() == index.documents
        vector = _question_vector(QUESTIONS[0])
        assert reopened.dense(vector, 5) == store.dense(vector, 5)
    finally:
        reopened.close()
    assert store.count() == index.count  # the first store still works: the embedded server is shared


def test_a_store_of_another_model_or_dimension_is_refused(seeded):
    folder, index, store, _ = seeded
    other = dataclasses.replace(index.manifest.model, name="another-model")
    foreign = dataclasses.replace(index, manifest=dataclasses.replace(index.manifest, model=other))
    with pytest.raises(StoreMismatchError, match="another-model"):
        store.sync(foreign)
    with pytest.raises(StoreMismatchError, match="dimension"):
        MilvusStore.open(f"milvus:{folder / 'seeds.db'}", 384)
    assert store.count() == index.count


def test_incremental_sync_and_reopen_after_close(tmp_path):
    docs = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", docs)
    first = _index(docs, tmp_path / "idx")
    target = f"milvus:{tmp_path / 'inc.db'}#incremental"
    store = MilvusStore.open(target, first.manifest.model.dim)
    assert store.sync(first).added_documents == 5
    store.close()
    with pytest.raises(StoreUnavailableError, match="closed"):
        store.count()

    changed, gone = sorted(p.name for p in docs.iterdir())[1:3]
    with (docs / changed).open("a", encoding="utf-8") as file:
        file.write("\nThe last troops left Almaty airport on Wednesday, officials said in a statement.\n")
    (docs / gone).unlink()
    second = _index(docs, tmp_path / "idx")
    assert second.path != first.path
    new_rows = [row for row, passage in second.iter_passages() if passage.doc_key == changed]

    store = MilvusStore.open(target, second.manifest.model.dim)  # reopened after close
    try:
        assert store.count() == first.count  # nothing synced yet
        report = store.sync(second)
        assert (report.added_documents, report.removed_documents, report.kept_documents) == (1, 2, 3)
        assert report.passages == len(new_rows)
        assert store.count() == second.count
        rows = [row for row, _ in second.iter_passages()]
        assert store.passages(rows) == second.passages(rows)
        assert store.documents() == second.documents and list(store.documents()) == list(second.documents)
        assert not {hit.row for hit in store.dense(_question_vector("troops"), 100, source=gone)}
        assert (store.sync(second).added_documents, store.sync(second).removed_documents) == (0, 0)
    finally:
        store.close()
        first.close()
        second.close()


def test_an_unreachable_server_fails_fast():
    began = time.perf_counter()
    with pytest.raises(StoreUnavailableError, match="127.0.0.1:1") as error:
        MilvusStore.open("milvus://127.0.0.1:1", 8, timeout=5.0)
    assert time.perf_counter() - began < 15
    assert "\n" not in str(error.value) and error.value.exit_code == 2


def test_a_server_that_never_answers_fails_within_the_timeout():
    with socket.socket() as listening:  # accepts connections (the kernel's backlog) and never says a word
        listening.bind(("127.0.0.1", 0))
        listening.listen(8)
        port = listening.getsockname()[1]
        began = time.perf_counter()
        with pytest.raises(StoreUnavailableError, match=f"127.0.0.1:{port}"):
            MilvusStore.open(f"milvus://127.0.0.1:{port}", 8, timeout=1.0)
        assert time.perf_counter() - began < 5


def test_a_db_held_by_another_process_is_unavailable(seeded):
    folder, _, store, _ = seeded
    code = textwrap.dedent(
        f"""
        from qa.storage.milvus import MilvusStore, StoreUnavailableError
        try:
            MilvusStore.open({f"milvus:{folder / 'seeds.db'}"!r}, 256, timeout=5.0)
        except StoreUnavailableError as exc:
            print("unavailable:", exc)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert "unavailable: cannot open the Milvus Lite store" in done.stdout, done.stdout + done.stderr
    assert store.count() > 0


def test_missing_pymilvus_is_a_missing_extra(tmp_path):
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["pymilvus"] = None
        from qa.errors import MissingExtraError
        from qa.storage.milvus import MilvusStore
        try:
            MilvusStore.open({f"milvus:{tmp_path / 'x.db'}"!r}, 8)
        except MissingExtraError as exc:
            print("missing:", exc, exc.exit_code)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)
    assert "missing: the Milvus store needs the pymilvus package" in done.stdout, done.stdout + done.stderr
    assert "[milvus]" in done.stdout and done.stdout.rstrip().endswith(" 2")
    assert MissingExtraError.exit_code == 2
