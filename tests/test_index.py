"""The on-disk index: built once, updated on change, atomic, locked, and rebuilt when damaged."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from qa import ChunkSettings, EmptyCorpusError, IndexLocationError, Retriever
from qa.embed import HashEmbedder
from qa.indexer import ensure_index
from qa.store import CURRENT, FORMAT_VERSION, MANIFEST, read_index


class Counting(HashEmbedder):
    def __init__(self, dim: int = 256, name: str = "hash") -> None:
        super().__init__(dim)
        self.name = name
        self.embedded = 0
        self.calls = 0

    def embed(self, texts, progress=None):
        self.calls += 1
        self.embedded += len(texts)
        return super().embed(texts, progress)


class Interrupting(HashEmbedder):
    def embed(self, texts, progress=None):
        raise KeyboardInterrupt


class Messages:
    def __init__(self):
        self.infos, self.warnings = [], []

    def info(self, message):
        self.infos.append(message)

    def warning(self, message):
        self.warnings.append(message)

    def progress(self, done, total):
        pass


def build(docs: Path, index: Path, embedder=None, settings=None, **kw):
    messages = Messages()
    stored = ensure_index(docs, index, embedder or Counting(), settings or ChunkSettings(), reporter=messages, **kw)
    return stored, messages


def live_generation(index: Path) -> str:
    return (index / CURRENT).read_text().strip()


def test_first_use_builds_then_reuses_without_embedding(corpus, tmp_path):
    index = tmp_path / "idx"
    embedder = Counting()
    stored, messages = build(corpus, index, embedder)
    assert embedder.embedded == len(stored.passages) + len(stored.sentences) > len(stored.passages) > 0
    assert any("first build" in m for m in messages.infos)
    manifest = stored.manifest
    assert manifest["format_version"] == FORMAT_VERSION and manifest["model"] == {
        "name": "hash",
        "dim": 256,
        "normalized": True,
        "metric": "inner_product",
    }
    assert manifest["chunking"] == ChunkSettings().to_dict()
    assert set(manifest["documents"]) == {"a.txt", "world/b.md"}
    assert {"faiss-cpu", "numpy", "python"} <= set(manifest["versions"])

    again, messages = build(corpus, index, embedder)
    assert embedder.calls == 1, "an unchanged corpus is never re-embedded"
    assert messages.infos == []
    assert again.path == stored.path


def test_changes_are_picked_up_and_only_changed_documents_embedded(corpus, tmp_path):
    index = tmp_path / "idx"
    embedder = Counting()
    first, _ = build(corpus, index, embedder)
    (corpus / "c.txt").write_text("A new article about airports reopening.", encoding="utf-8")
    (corpus / "world" / "b.md").unlink()
    embedder.embedded = 0
    second, messages = build(corpus, index, embedder)
    assert any("1 added, 0 changed, 1 removed" in m for m in messages.infos)
    assert embedder.embedded == 2, "only the new document is embedded: one passage, one sentence"
    new_rows = [row for row, p in enumerate(second.passages) if p.doc_key == "c.txt"]
    spans, vectors = second.sentences_of(new_rows[0])
    assert [tuple(s) for s in spans] == [(0, 39)] and vectors.shape == (1, 256)
    kept = [row for row, p in enumerate(second.passages) if p.doc_key == "a.txt"]
    old = [row for row, p in enumerate(first.passages) if p.doc_key == "a.txt"]
    assert [second.sentences_of(r)[0].tolist() for r in kept] == [first.sentences_of(r)[0].tolist() for r in old]
    assert sorted(second.documents) == ["a.txt", "c.txt"]
    assert not first.path.exists(), "the old generation is cleaned up"


def test_touch_without_change_is_not_a_change(corpus, tmp_path):
    index = tmp_path / "idx"
    stored, _ = build(corpus, index)
    os.utime(corpus / "a.txt", ns=(1, 1))
    again, messages = build(corpus, index)
    assert messages.infos == [] and again.path == stored.path


@pytest.mark.parametrize(
    ("embedder", "settings", "why"),
    [
        (Counting(dim=128), ChunkSettings(), "model changed"),
        (Counting(name="other"), ChunkSettings(), "model changed"),
        (Counting(), ChunkSettings(min_words=5, max_words=10), "chunk settings changed"),
    ],
)
def test_incompatible_index_is_rebuilt(corpus, tmp_path, embedder, settings, why):
    index = tmp_path / "idx"
    build(corpus, index)
    stored, messages = build(corpus, index, embedder, settings)
    assert any(why in m for m in messages.infos)
    assert embedder.embedded == len(stored.passages) + len(stored.sentences)


def test_rebuild_flag_forces_a_full_build(corpus, tmp_path):
    index = tmp_path / "idx"
    build(corpus, index)
    embedder = Counting()
    stored, messages = build(corpus, index, embedder, rebuild=True)
    assert embedder.embedded == len(stored.passages) + len(stored.sentences)
    assert any("rebuild requested" in m for m in messages.infos)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda gen: (gen / "vectors.faiss").write_bytes((gen / "vectors.faiss").read_bytes()[:50]), "truncated"),
        (lambda gen: (gen / "passages.jsonl").unlink(), "missing"),
        (lambda gen: (gen / MANIFEST).write_text('{"format": "something-else"}'), "not an index written by"),
        (lambda gen: (gen / MANIFEST).write_text("{trunc"), "truncated or not JSON"),
        (lambda gen: (gen.parent / CURRENT).write_text("../../etc"), "names no build"),
        (lambda gen: _edit_manifest(gen, counts=None), "unexpected structure (counts)"),
        (lambda gen: _edit_manifest(gen, corpus={"files": []}), "unexpected structure (corpus.files)"),
        (lambda gen: _replace(gen / "passages.jsonl", '"doc": "a.txt"', '"doc": "z.txt"'), "names a document"),
        (lambda gen: ((gen.parent / CURRENT).unlink(), (gen.parent / CURRENT).mkdir()), "unreadable CURRENT"),
    ],
)
def test_damaged_index_is_detected_and_rebuilt(corpus, tmp_path, damage, reason):
    index = tmp_path / "idx"
    stored, _ = build(corpus, index)
    damage(stored.path)
    rebuilt, messages = build(corpus, index)
    assert any("unusable" in m and reason in m for m in messages.infos), messages.infos
    assert len(rebuilt.passages) == len(stored.passages)
    assert read_index(index) is not None


def _edit_manifest(gen: Path, **changes) -> None:
    manifest = json.loads((gen / MANIFEST).read_text())
    (gen / MANIFEST).write_text(json.dumps({**manifest, **changes}))


def _replace(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


def test_damaged_manifest_does_not_block_rebuild_flag(corpus, tmp_path):
    index = tmp_path / "idx"
    stored, _ = build(corpus, index)
    _edit_manifest(stored.path, model=None)
    rebuilt, messages = build(corpus, index, rebuild=True)
    assert any("rebuild requested" in m for m in messages.infos) and rebuilt.passages


def test_index_path_that_is_a_file_is_a_clear_error(corpus, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(IndexLocationError, match="cannot use .*file as an index folder"):
        build(corpus, tmp_path / "file")


def test_interrupted_build_leaves_previous_index_live(corpus, tmp_path):
    index = tmp_path / "idx"
    stored, _ = build(corpus, index)
    before = live_generation(index)
    (corpus / "new.txt").write_text("Breaking news arrives.", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        build(corpus, index, Interrupting())
    assert live_generation(index) == before
    assert not [p for p in index.iterdir() if p.name.startswith(".tmp-")], "no half-written folder left"
    old = read_index(index)
    assert old is not None and [p.text for p in old.passages] == [p.text for p in stored.passages]


def test_concurrent_builds_build_once(corpus, tmp_path):
    index = tmp_path / "idx"
    embedder = Counting()
    results, errors = [], []

    def run():
        try:
            results.append(build(corpus, index, embedder)[0].path)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(results)) == 1
    assert embedder.calls == 1


def test_corpus_without_documents_is_an_error(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "empty.txt").write_text("")
    with pytest.raises(EmptyCorpusError):
        build(tmp_path / "docs", tmp_path / "idx")


def test_index_is_never_part_of_its_own_corpus(corpus):
    stored, _ = build(corpus, corpus / "index")
    again, messages = build(corpus, corpus / "index")
    assert messages.infos == [] and sorted(again.documents) == ["a.txt", "world/b.md"]
    assert Retriever(stored, Counting(), str(corpus)).search("troops", 1).hits
