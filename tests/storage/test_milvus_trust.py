"""A Milvus mirror that is wrong says so and is repaired, never a silent wrong or empty answer (issue 25):
a lost or partly lost passage collection, a damaged stored vector before a restore, another corpus whose
files share names, collection names that would collide, a '#' in a path, a name too long for a file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from qa import Retriever  # noqa: E402
from qa.embed import HashEmbedder  # noqa: E402
from qa.errors import BadInputError  # noqa: E402
from qa.storage.generations import StoredIndex, read_index  # noqa: E402
from qa.storage.milvus import DEFAULT_COLLECTION, MilvusStore, MilvusTarget, StoreMismatchError  # noqa: E402

QUESTION = "How many troops did the CSTO send?"


def _open(docs: Path, index: Path, store: str) -> Retriever:
    return Retriever.open(docs=docs, index=index, embedder=HashEmbedder(), store=store, reader=False)


def _stored(index: Path) -> StoredIndex:
    stored = read_index(index)
    assert stored is not None
    return stored


def test_a_lost_passage_collection_is_out_of_step_and_the_next_open_rewrites_it(seeds, tmp_path, cli, hash_model):
    target = f"milvus:{tmp_path / 'news.db'}"
    _open(seeds, tmp_path / "idx", target)
    index = _stored(tmp_path / "idx")
    with MilvusStore.open(target, index.manifest.model.dim) as store:
        assert store.in_step(index)
        store._client.drop_collection(DEFAULT_COLLECTION)  # noqa: SLF001 - the damage under test
    with MilvusStore.open(target, index.manifest.model.dim) as store:  # an empty collection made again
        assert store.count() == 0
        assert not store.in_step(index)
        assert store.out_of_step(index) == f"it holds 0 passages where its records name {index.count}"
    code, out, _ = cli("index", "status", "--docs", str(seeds), "--index", str(tmp_path / "idx"), "--store", target)
    assert code == 0 and "not in step with this index (it holds 0 passages where its records name" in out

    # asking through the mirror repairs it first: never "no passage found" from an emptied store
    result = _open(seeds, tmp_path / "idx", target).search(QUESTION, mode="dense")
    assert result.hits
    with MilvusStore.open(target, index.manifest.model.dim) as store:
        assert store.count() == index.count and store.in_step(index)


def test_passages_lost_from_one_document_are_written_again(seeds, tmp_path):
    target = f"milvus:{tmp_path / 'news.db'}"
    _open(seeds, tmp_path / "idx", target)
    index = _stored(tmp_path / "idx")
    with MilvusStore.open(target, index.manifest.model.dim) as store:
        key = next(iter(index.documents))
        store._client.delete(DEFAULT_COLLECTION, filter=f'doc_key == "{key}"')  # noqa: SLF001
        store._client.flush(DEFAULT_COLLECTION)  # noqa: SLF001
        assert store.count() < index.count and not store.in_step(index)
        report = store.sync(index)
        assert report.repaired is not None and report.repaired[1] == index.count
        assert report.repaired[0] < index.count and "rewritten whole" in report.summary()
        assert store.count() == index.count and store.in_step(index)
        rows = [row for row, _ in index.iter_passages()]
        assert store.passages(rows) == index.passages(rows)


def _damage(store: MilvusStore, row: int, change) -> None:
    """Rewrite one stored passage with its vector changed by `change` (everything else as it was)."""
    [entity] = store._client.get(DEFAULT_COLLECTION, ids=[row], output_fields=["*"])  # noqa: SLF001
    entity = {k: v for k, v in entity.items() if k != "sparse"}
    entity["vector"] = change(np.asarray(entity["vector"], dtype=np.float32)).astype(np.float32)
    store._client.upsert(DEFAULT_COLLECTION, [entity])  # noqa: SLF001
    store._client.flush(DEFAULT_COLLECTION)  # noqa: SLF001


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda v: v * 1e30, id="scaled-by-1e30"),
        pytest.param(lambda v: np.roll(v, 1), id="unit-length-but-not-its-own"),  # only the digest sees it
    ],
)
def test_a_damaged_stored_vector_is_embedded_again_when_an_index_is_restored(seeds, tmp_path, change):
    target = f"milvus:{tmp_path / 'news.db'}"
    _open(seeds, tmp_path / "idx", target)
    index = _stored(tmp_path / "idx")
    damaged_row, damaged_passage = next(iter(index.iter_passages()))
    right = index.vectors_of([damaged_row])[damaged_row].copy()
    index.close()
    with MilvusStore.open(target, right.shape[0]) as store:
        _damage(store, damaged_row, change)
    shutil.rmtree(tmp_path / "idx")  # the index folder is lost: restored from the mirror

    restored = _open(seeds, tmp_path / "idx", target)
    again = _stored(tmp_path / "idx")
    assert again.manifest.last_build is not None
    assert again.manifest.last_build.restored_passages == again.count - 1  # all but the damaged one
    [(row, passage)] = [(r, p) for r, p in again.iter_passages() if p.id == damaged_passage.id]
    np.testing.assert_allclose(again.vectors_of([row])[row], right, atol=1e-6)
    for hit in restored.search("What is the price of gas in Europe?", k=3, mode="dense").hits:
        assert hit.score < 1.01  # no passage with a runaway score
    with MilvusStore.open(target, right.shape[0]) as store:  # the mirror was written again too
        assert store.in_step(again)
        np.testing.assert_allclose(store.vectors_of([row])[row], right, atol=1e-6)


def test_another_corpus_with_the_same_file_names_is_refused(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    for root, topic in ((first, "harbour"), (second, "election")):
        root.mkdir()
        for n in range(1, 6):
            (root / f"{n:03d}.txt").write_text(f"Story {n} about the {topic}.\n\nIt happened on day {n}.\n")
    target = f"milvus:{tmp_path / 'news.db'}"
    _open(first, tmp_path / "idx1", target)
    with pytest.raises(StoreMismatchError, match="mirrors another corpus"):
        _open(second, tmp_path / "idx2", target)
    index = _stored(tmp_path / "idx1")
    with MilvusStore.open(target, index.manifest.model.dim) as store:
        assert store.in_step(index)  # the first corpus's mirror is untouched


def test_store_names_that_would_collide_or_cannot_be_files(tmp_path):
    hashed = MilvusTarget.parse(f"milvus:{tmp_path / 'a#b.db'}")  # a '#' in a path is part of the path
    assert hashed.uri.endswith("a#b.db") and hashed.collection == DEFAULT_COLLECTION
    assert MilvusTarget.parse(f"milvus:{tmp_path / 'a.db'}#news").collection == "news"
    for name in (DEFAULT_COLLECTION + "_meta", "other_meta"):
        with pytest.raises(BadInputError, match="the store's own"):
            MilvusTarget.parse(f"milvus:{tmp_path / 'a.db'}#{name}")
    with pytest.raises(BadInputError, match="longer than a file name"):
        MilvusTarget.parse(f"milvus:{tmp_path / ('a' * 300 + '.db')}")


def test_a_name_too_long_is_one_line_and_exit_2(seeds, tmp_path, cli, hash_model):
    code, out, err = cli("--docs", str(seeds), "--fast", "--store", f"milvus:{tmp_path / ('a' * 300 + '.db')}", "x")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "longer than a file name" in err
    code, out, err = cli("index", "status", "--docs", str(seeds), "--store", f"milvus:{tmp_path / ('a' * 300 + '.db')}")
    assert code == 2 and "longer than a file name" in err


def test_a_digest_is_recorded_for_every_passage(seeds, tmp_path):
    target = f"milvus:{tmp_path / 'news.db'}"
    _open(seeds, tmp_path / "idx", target)
    index = _stored(tmp_path / "idx")
    with MilvusStore.open(target, index.manifest.model.dim) as store:
        found = store._client.query(f"{DEFAULT_COLLECTION}_meta", filter='key like "doc:%"', output_fields=["value"])  # noqa: SLF001
        records = [json.loads(r["value"]) for r in found]
    assert sum(len(r["digests"]) for r in records) == index.count
    assert all(len(r["digests"]) == len(r["rows"]) for r in records)


def test_one_writer_a_second_is_refused_and_a_server_sees_a_take_over(seeds, tmp_path, cli, hash_model):
    target = f"milvus:{tmp_path / 'news.db'}"
    serving = _open(seeds, tmp_path / "a", target)  # index folder a writes the mirror
    replica = _open(seeds, tmp_path / "b", target)  # another folder, the same corpus: nothing to write, welcome
    assert not replica.search(QUESTION).warnings

    copy = tmp_path / "copy"  # the corpus mounted elsewhere, one article fewer
    shutil.copytree(seeds, copy)
    gone = sorted(seeds.glob("*.txt"))[0]
    (copy / gone.name).unlink()
    with pytest.raises(StoreMismatchError, match=r"is kept by another index \(.*/a\).*--take-over"):
        _open(copy, tmp_path / "b", target)  # b would delete a document a still serves
    assert not serving.search(QUESTION).warnings  # refused: the mirror is still a's

    where = ("--docs", str(copy), "--index", str(tmp_path / "b"), "--store", target)
    code, out, err = cli("index", "update", *where)
    assert code == 2 and "--take-over" in err
    code, out, _ = cli("index", "update", *where, "--take-over")
    assert code == 0 and "1 removed" in out

    # a (its own generation still holds the document) sees the mirror changed under it: it answers from its
    # own index and says so, rather than silently losing the document
    result = serving.search("Who commanded the peacekeeping contingent?", k=10, mode="dense")
    assert result.hits and any("another index" in w and "answered from the local index" in w for w in result.warnings)
    assert any(hit.passage.doc_key == gone.name for hit in serving.search(gone.read_text()[:200], k=10).hits)


def test_take_over_needs_a_store(seeds, tmp_path, cli, hash_model):
    code, _, err = cli("index", "update", "--docs", str(seeds), "--index", str(tmp_path / "i"), "--take-over")
    assert code == 2 and "--take-over needs --store" in err


def test_verify_reads_every_stored_vector_and_update_writes_damaged_ones_again(seeds, tmp_path, cli, hash_model):
    target = f"milvus:{tmp_path / 'news.db'}"
    where = ("--docs", str(seeds), "--index", str(tmp_path / "idx"), "--store", target)
    assert cli("index", "update", *where)[0] == 0
    code, out, _ = cli("index", "verify", *where)
    assert code == 0 and out.splitlines()[-1].endswith("in step with this index, every vector sound")
    index = _stored(tmp_path / "idx")
    row = next(iter(index.iter_passages()))[0]
    with MilvusStore.open(target, index.manifest.model.dim) as store:
        _damage(store, row, lambda v: -v)  # unit length, finite: only the digest tells
    index.close()

    code, out, err = cli("index", "verify", *where)
    assert code == 1 and "damaged vectors in 1 document (1 passages)" in err and "--check-vectors" in err
    code, out, _ = cli("index", "update", *where)
    assert code == 0 and "in step" in out  # a plain update reads no vectors
    code, out, _ = cli("index", "update", *where, "--check-vectors")
    assert code == 0 and "1 document written" in out
    assert cli("index", "verify", *where)[0] == 0
