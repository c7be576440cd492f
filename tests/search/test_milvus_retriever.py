"""`Retriever.open(store="milvus:…")` and `ask.py --store`: the Milvus mirror finds the candidates, and the
answers are the default store's (Milvus Lite, the hashing embedder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT, dev_questions

from qa import Retriever
from qa.embed import HashEmbedder

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
    for source in ("dawn", "no such publisher"):
        a = plain.search(QUESTIONS[0], k=3, source=source)
        b = mirrored.search(QUESTIONS[0], k=3, source=source)
        assert [h.passage.id for h in a.hits] == [h.passage.id for h in b.hits]


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
