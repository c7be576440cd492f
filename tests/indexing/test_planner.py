"""The reading side of a build (its own thread): batches in corpus order, bounded, stopped with the build."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

import qa.indexing.planner as planner_module
from qa.embed.reference import HashEmbedder
from qa.indexing.build import BuildRequest
from qa.indexing.changes import scan_corpus
from qa.indexing.planner import Planner
from qa.records import ChunkSettings, SilentReporter


def request_for(docs: Path, index: Path) -> BuildRequest:
    corpus = scan_corpus(docs, index)
    return BuildRequest(index, corpus, HashEmbedder(64), ChunkSettings(), SilentReporter(), str(docs), "auto")


def records(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            text = f"Report {i} says the council met on Monday. It voted on item {i} and adjourned."
            out.write(json.dumps({"id": f"r{i}", "text": text}) + "\n")


def test_one_large_jsonl_file_is_handed_over_in_bounded_batches(tmp_path):
    records(tmp_path / "news.jsonl", 40)
    with Planner(request_for(tmp_path / "news.jsonl", tmp_path / "idx"), {}, {}, batch_passages=5) as planner:
        handed = list(planner)
    sizes = [p.batch.passages for p in handed]
    assert sum(sizes) >= 40 and max(sizes) <= 5 + 2, f"cut per document, not per file: {sizes}"
    keys = [d.doc.key for p in handed for d in p.batch.documents]
    assert [planner.plan.positions[k] for k in keys] == list(range(40)), "corpus order kept"
    assert handed[-1].files_done == 1 and len(planner.plan.files) == 1


def test_documents_already_stored_are_not_read_into_a_batch(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(3):
        (docs / f"s{i}.txt").write_text(f"Story {i}. The mayor spoke about the bridge {i}.\n", encoding="utf-8")
    request = request_for(docs, tmp_path / "idx")
    with Planner(request, {}, {}, batch_passages=100) as planner:
        first = list(planner)
    known = {d.doc.key: d.version for p in first for d in p.batch.documents}
    fallback = dict(list(known.items())[:1])
    later = {k: v for k, v in list(known.items())[1:]}
    with Planner(request, later, fallback, batch_passages=100) as planner:
        again = list(planner)
    assert [d for p in again for d in p.batch.documents] == []
    assert [r.key for p in again for r in p.reuse] == list(fallback)
    assert planner.plan.reused == 3


def test_a_reader_error_is_raised_on_the_embedding_side(tmp_path, monkeypatch):
    records(tmp_path / "news.jsonl", 3)

    def broken(*args, **kwargs):
        raise UnicodeEncodeError("utf-8", "caf\udce9", 3, 4, "surrogates not allowed")

    monkeypatch.setattr(planner_module, "read_documents", broken)
    with (
        pytest.raises(UnicodeEncodeError),
        Planner(request_for(tmp_path / "news.jsonl", tmp_path / "i"), {}, {}, 5) as p,
    ):
        list(p)


def test_a_stopped_build_stops_its_reader(tmp_path, monkeypatch):
    records(tmp_path / "news.jsonl", 400)
    request = request_for(tmp_path / "news.jsonl", tmp_path / "idx")
    with pytest.raises(KeyboardInterrupt), Planner(request, {}, {}, batch_passages=1, depth=1) as planner:
        for _ in planner:
            raise KeyboardInterrupt  # the embedding side is interrupted on the first batch
    deadline = time.monotonic() + 5
    while any(t.name == "newsqa-reader" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name == "newsqa-reader" for t in threading.enumerate()), "the reader thread ended"
    assert len(planner.plan.positions) < 400, "it stopped reading instead of running ahead"


def test_warnings_reach_the_build_in_file_order(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Story a. The port reopened on Monday after the storm passed.\n", encoding="utf-8")
    (docs / "b.txt").write_bytes(b"\x00\x01\x02binary\x00")
    (docs / "c.txt").write_bytes(b"\x00\x01\x02binary too\x00")
    with Planner(request_for(docs, tmp_path / "idx"), {}, {}, batch_passages=100) as planner:
        warnings = [w for p in planner for w in p.warnings]
    assert len(warnings) == 2 and "b.txt" in warnings[0] and "c.txt" in warnings[1], warnings
