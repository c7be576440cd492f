"""`Retriever.open(store="milvus:…")` and `ask.py --store`: the Milvus mirror finds the candidates, and the
answers are the default store's (Milvus Lite, the hashing embedder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, dev_questions

from qa import Retriever
from qa.embed import HashEmbedder
from qa.storage.generations import read_index
from qa.storage.manifest import LastBuild
from qa.storage.milvus import MilvusStore, StoreMismatchError

QUESTIONS = [
    "When did the withdrawal finish?",
    "How many troops did the CSTO send?",
    "Who commanded the peacekeeping contingent?",
    "Why did protests start in Kazakhstan?",
    "What happened at Almaty airport?",
]


def _open(seeds, tmp_path, store=None):
    return Retriever.open(docs=seeds, index=tmp_path / "idx", embedder=HashEmbedder(), store=store)


def test_answers_through_the_mirror_are_the_default_stores(seeds, tmp_path):
    plain = _open(seeds, tmp_path)
    mirrored = _open(seeds, tmp_path, f"milvus:{tmp_path / 'news.db'}")
    questions = QUESTIONS + [q["question"] for q in dev_questions()]
    same_top = 0
    for question in questions:
        for mode in ("hybrid", "dense", "bm25"):
            a, b = plain.search(question, k=3, mode=mode), mirrored.search(question, k=3, mode=mode)
            same_top += bool(a.hits) and bool(b.hits) and a.hits[0].passage.id == b.hits[0].passage.id
            if mode == "hybrid" and question in QUESTIONS:
                assert a.to_dict() == b.to_dict(), question  # the whole cited answer, not only the top passage
    assert same_top >= 0.9 * 3 * len(questions)
    # a source that matches the path as shown, corpus folder in front, too
    for source in ("dawn", "no such publisher", f"{seeds.name}/004", seeds.name, f"{seeds.name}/"):
        a = plain.search(QUESTIONS[0], k=3, source=source)
        b = mirrored.search(QUESTIONS[0], k=3, source=source)
        assert [h.passage.id for h in a.hits] == [h.passage.id for h in b.hits], source
        assert a.empty_reason == b.empty_reason


def test_the_mirror_follows_an_update_of_the_corpus(seeds, tmp_path):
    store = f"milvus:{tmp_path / 'news.db'}"
    _open(seeds, tmp_path, store).search(QUESTIONS[0])
    gone = sorted(seeds.glob("*.txt"))[-1]
    gone.unlink()
    mirrored = _open(seeds, tmp_path, store)  # the generation is updated, then the mirror
    result = mirrored.search("Who commanded the peacekeeping contingent?", k=10)
    assert result.hits and all(gone.name not in hit.source.path for hit in result.hits)
    assert mirrored._engine.count() == len(mirrored)  # noqa: SLF001 - the mirror holds what the index holds


def test_ask_with_a_milvus_store_prints_the_same_json(seeds, tmp_path):
    env = {**os.environ, "QA_MODEL": "hash", "HF_HUB_OFFLINE": "1"}
    base = [sys.executable, str(ROOT / "ask.py"), QUESTIONS[1], "--json", "--docs", str(seeds), "-q"]
    plain = subprocess.run([*base, "--index", str(tmp_path / "a")], capture_output=True, text=True, env=env)
    store = ["--index", str(tmp_path / "b"), "--store", f"milvus:{tmp_path / 'news.db'}"]
    mirrored = subprocess.run([*base, *store], capture_output=True, text=True, env=env)
    assert plain.returncode == mirrored.returncode == 0, mirrored.stderr
    assert json.loads(plain.stdout) == json.loads(mirrored.stdout)
    bad = subprocess.run(
        [*base, "--index", str(tmp_path / "c"), "--store", "milvus://127.0.0.1:1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("error: cannot reach the Milvus server at http://127.0.0.1:1")


def _rows(retriever) -> dict[int, str]:
    return {row: passage.id for row, passage in retriever._index.iter_passages()}  # noqa: SLF001


def test_a_new_index_restored_from_the_mirror_embeds_nothing_and_keeps_its_rows(seeds, tmp_path):
    store = f"milvus:{tmp_path / 'news.db'}"
    _open(seeds, tmp_path, store)
    first = sorted(seeds.glob("*.txt"))[0]
    first.write_text(first.read_text().replace("troops", "forces"))
    builder = _open(seeds, tmp_path, store)  # the changed article's passages take new rows: the rows have a gap
    assert max(_rows(builder)) >= len(builder)

    replica = Retriever.open(docs=seeds, index=tmp_path / "replica", embedder=HashEmbedder(), store=store)
    last = replica._index.manifest.last_build  # noqa: SLF001
    assert (last.embedded_passages, last.restored_passages) == (0, len(builder))
    assert replica._index.manifest.model.backend == "restored"  # noqa: SLF001
    assert _rows(replica) == _rows(builder)  # the same passages at the same rows as the mirror
    assert not replica._engine.sync(replica._index).changed  # noqa: SLF001 - so its sync writes nothing
    for question in QUESTIONS:
        assert replica.search(question).to_dict() == builder.search(question).to_dict()

    # the builder changes an article and writes the mirror; the replica's update takes it from there, same rows
    third = sorted(seeds.glob("*.txt"))[2]
    third.write_text(third.read_text().replace("troops", "servicemen"))
    builder = _open(seeds, tmp_path, store)
    replica = Retriever.open(docs=seeds, index=tmp_path / "replica", embedder=HashEmbedder(), store=store)
    last = replica._index.manifest.last_build  # noqa: SLF001
    assert last.embedded_passages == 0 and last.restored_passages > 0 and last.reused_documents == 4
    assert _rows(replica) == _rows(builder)
    assert replica.search(QUESTIONS[0]).to_dict() == builder.search(QUESTIONS[0]).to_dict()

    # a --rebuild embeds everything again (its rows are its own: the mirror, the builder's, refuses them)
    with pytest.raises(StoreMismatchError, match="kept by another index"):
        Retriever.open(docs=seeds, index=tmp_path / "replica", embedder=HashEmbedder(), store=store, rebuild=True)
    last = _last_build(tmp_path / "replica")
    assert last.restored_passages == 0 and last.embedded_passages > len(builder)

    # an article changed since the mirror was written is embedded, not restored
    second = sorted(seeds.glob("*.txt"))[1]
    second.write_text(second.read_text().replace("troops", "soldiers"))
    with pytest.raises(StoreMismatchError, match="kept by another index"):
        Retriever.open(docs=seeds, index=tmp_path / "replica", embedder=HashEmbedder(), store=store)
    last = _last_build(tmp_path / "replica")
    assert last.restored_passages == 0 and last.embedded_passages > 0


def _last_build(index: Path) -> LastBuild:
    stored = read_index(index)
    assert stored is not None and stored.manifest.last_build is not None
    return stored.manifest.last_build


def test_a_mirror_another_index_rewrote_is_not_trusted(seeds, tmp_path):
    store = f"milvus:{tmp_path / 'news.db'}"
    mirrored = _open(seeds, tmp_path, store)
    plain = Retriever.open(docs=seeds, index=tmp_path / "idx", embedder=HashEmbedder())
    question = "Who commanded the peacekeeping contingent?"
    assert not mirrored.search(question).warnings

    other = tmp_path / "other"  # another index, built on its own, writes the same mirror: its rows are others
    other.mkdir()
    for path in sorted(seeds.glob("*.txt"))[1:]:
        (other / path.name).write_text(path.read_text())
    Retriever.open(docs=other, index=tmp_path / "other-idx", embedder=HashEmbedder())  # its own rows: from 0
    with pytest.raises(StoreMismatchError, match="kept by another index"):  # one writer
        Retriever.open(docs=other, index=tmp_path / "other-idx", embedder=HashEmbedder(), store=store)
    assert not mirrored.search(question).warnings
    stored = read_index(tmp_path / "other-idx")
    assert stored is not None
    with MilvusStore.open(store, stored.manifest.model.dim) as engine:
        engine.sync(stored, take_over=True)  # taken over

    result = mirrored.search(question)  # its rows are other passages now: the local index answers
    assert result.hits and result.warnings[-1].startswith(
        f"answered from the local index: the Milvus mirror (milvus:{tmp_path / 'news.db'}) is out of step ("
    )
    expected = plain.search(question)
    assert [h.passage.id for h in result.hits] == [h.passage.id for h in expected.hits]
