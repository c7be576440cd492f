"""The on-disk index: built once, updated on change, atomic, locked, and rebuilt when damaged."""

from __future__ import annotations

import json
import os
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest

from qa import ChunkSettings, EmptyCorpusError, IndexLocationError, Retriever
from qa.embed.reference import HashEmbedder
from qa.indexing.build import ensure_index
from qa.storage.generations import CURRENT, FORMAT_VERSION, MANIFEST, read_index
from qa.storage.manifest import ModelInfo


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


def passages_of(stored) -> list:
    return [p for _, p in stored.iter_passages()]


def rows_of(stored, doc_key: str) -> list[int]:
    return [row for row, p in stored.iter_passages() if p.doc_key == doc_key]


def sentence_count(stored) -> int:
    return sum(len(stored.sentences_of(row)[0]) for row, _ in stored.iter_passages())


def test_first_use_builds_then_reuses_without_embedding(corpus, tmp_path):
    index = tmp_path / "idx"
    embedder = Counting()
    stored, messages = build(corpus, index, embedder)
    assert embedder.embedded == stored.count + sentence_count(stored) > stored.count > 0
    assert any("first build" in m for m in messages.infos)
    manifest = json.loads((stored.path / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format_version"] == FORMAT_VERSION and manifest["model"] == {
        "name": "hash",
        "dim": 256,
        "normalized": True,
        "metric": "inner_product",
        "backend": "hash",
    }
    assert stored.manifest.model == ModelInfo(name="hash", dim=256, backend="hash")
    assert stored.manifest.chunking == manifest["chunking"] == ChunkSettings().to_dict()
    assert stored.manifest.vector_index.kind == "flat"
    assert set(stored.documents) == {"a.txt", "world/b.md"}
    assert {"faiss-cpu", "numpy", "python"} <= set(stored.manifest.versions)

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
    new_rows = rows_of(second, "c.txt")
    spans, vectors = second.sentences_of(new_rows[0])
    assert [tuple(s) for s in spans] == [(0, 39)] and vectors.shape == (1, 256)
    kept, old = rows_of(second, "a.txt"), rows_of(first, "a.txt")
    assert kept == old, "an unchanged document keeps its rows (the FAISS ids)"
    assert [second.sentences_of(r)[0].tolist() for r in kept] == [first.sentences_of(r)[0].tolist() for r in old]
    assert sorted(second.documents) == ["a.txt", "c.txt"]
    assert second.count == len(kept) + 1 == second.vectors.ntotal == second.lexical.size
    assert min(new_rows) > max(rows_of(first, "world/b.md") + old), "rows are never reused"
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
    assert embedder.embedded == stored.count + sentence_count(stored)


def test_rebuild_flag_forces_a_full_build(corpus, tmp_path):
    index = tmp_path / "idx"
    build(corpus, index)
    embedder = Counting()
    stored, messages = build(corpus, index, embedder, rebuild=True)
    assert embedder.embedded == stored.count + sentence_count(stored)
    assert any("rebuild requested" in m for m in messages.infos)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda gen: (gen / "vectors.faiss").write_bytes((gen / "vectors.faiss").read_bytes()[:50]), "truncated"),
        (lambda gen: (gen / "store.sqlite").unlink(), "missing"),
        (lambda gen: (gen / "store.sqlite").write_bytes(b"x" * (gen / "store.sqlite").stat().st_size), "differs from"),
        (lambda gen: (gen / MANIFEST).write_text('{"format": "something-else"}'), "not an index written by"),
        (lambda gen: (gen / MANIFEST).write_text("{trunc"), "truncated or not JSON"),
        (lambda gen: (gen.parent / CURRENT).write_text("../../etc"), "names no build"),
        (lambda gen: _edit_manifest(gen, counts=None), "unexpected structure (counts)"),
        (lambda gen: _edit_manifest(gen, vector_index=[]), "unexpected structure (vector_index)"),
        (lambda gen: _edit_manifest(gen, counts={"documents": 2, "passages": 99}), "disagree on counts"),
        (lambda gen: ((gen.parent / CURRENT).unlink(), (gen.parent / CURRENT).mkdir()), "unreadable CURRENT"),
    ],
)
def test_damaged_index_is_detected_and_rebuilt(corpus, tmp_path, damage, reason):
    index = tmp_path / "idx"
    stored, _ = build(corpus, index)
    damage(stored.path)
    rebuilt, messages = build(corpus, index)
    assert any("unusable" in m and reason in m for m in messages.infos), messages.infos
    assert rebuilt.count == stored.count
    assert read_index(index) is not None


def _edit_manifest(gen: Path, **changes) -> None:
    manifest = json.loads((gen / MANIFEST).read_text())
    (gen / MANIFEST).write_text(json.dumps({**manifest, **changes}))


def test_damaged_manifest_does_not_block_rebuild_flag(corpus, tmp_path):
    index = tmp_path / "idx"
    stored, _ = build(corpus, index)
    _edit_manifest(stored.path, model=None)
    rebuilt, messages = build(corpus, index, rebuild=True)
    assert any("rebuild requested" in m for m in messages.infos) and rebuilt.count


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
    assert old is not None and [p.text for p in passages_of(old)] == [p.text for p in passages_of(stored)]


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


class InterruptAfter(Counting):
    """Embeds `calls` batches, then is interrupted like a Ctrl-C."""

    def __init__(self, calls: int) -> None:
        super().__init__()
        self.allowed = calls

    def embed(self, texts, progress=None):
        if self.calls >= self.allowed:
            raise KeyboardInterrupt
        return super().embed(texts, progress)


def _many_articles(folder: Path, count: int) -> None:
    folder.mkdir(exist_ok=True)
    for i in range(count):
        words = " ".join(f"topic{i} word{j} report{i % 7}" for j in range(12))
        (folder / f"story{i:03d}.txt").write_text(f"Story number {i} is here. {words}.\n", encoding="utf-8")


def test_an_interrupted_build_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    import qa.indexing.build

    monkeypatch.setattr(qa.indexing.build, "EMBED_BATCH", 1)  # one document per checkpoint
    docs, index = tmp_path / "docs", tmp_path / "idx"
    _many_articles(docs, 12)
    with pytest.raises(KeyboardInterrupt):
        build(docs, index, InterruptAfter(5))
    assert read_index(index) is None, "nothing is live before a first build completes"
    resumed = Counting()
    stored, messages = build(docs, index, resumed)
    assert any("Resuming an interrupted build: 5 documents" in m for m in messages.infos), messages.infos
    assert resumed.calls == 7, "only the 7 documents not committed before the interrupt are embedded"
    assert stored.manifest.last_build.resumed is True
    fresh, _ = build(docs, tmp_path / "fresh", Counting())
    assert [p.text for p in passages_of(stored)] == [p.text for p in passages_of(fresh)]
    assert len(stored.documents) == 12 and stored.vectors.ntotal == stored.count == fresh.count
    assert not [p for p in index.iterdir() if p.name.startswith(".build-")], "the checkpoint is gone once live"


def test_an_interrupted_update_keeps_the_old_index_live_then_resumes(tmp_path, monkeypatch):
    import qa.indexing.build

    monkeypatch.setattr(qa.indexing.build, "EMBED_BATCH", 1)
    docs, index = tmp_path / "docs", tmp_path / "idx"
    _many_articles(docs, 4)
    first, _ = build(docs, index)
    _many_articles(docs, 10)  # 6 more
    with pytest.raises(KeyboardInterrupt):
        build(docs, index, InterruptAfter(2))
    live = read_index(index)
    assert live is not None and live.path == first.path and len(live.documents) == 4
    embedder = Counting()
    stored, messages = build(docs, index, embedder)
    assert embedder.calls == 4 and len(stored.documents) == 10
    assert any("Resuming" in m for m in messages.infos)
    assert Retriever(stored, Counting(), str(docs)).search("topic9 word3", 1).hits[0].passage.doc_key == "story009.txt"


def test_rebuild_flag_discards_a_checkpoint(tmp_path, monkeypatch):
    import qa.indexing.build

    monkeypatch.setattr(qa.indexing.build, "EMBED_BATCH", 1)
    docs, index = tmp_path / "docs", tmp_path / "idx"
    _many_articles(docs, 5)
    with pytest.raises(KeyboardInterrupt):
        build(docs, index, InterruptAfter(3))
    embedder = Counting()
    build(docs, index, embedder, rebuild=True)
    assert embedder.calls == 5


def test_a_changed_document_is_the_only_one_embedded_again(corpus, tmp_path):
    index = tmp_path / "idx"
    first, _ = build(corpus, index)
    (corpus / "a.txt").write_text("An entirely different report about harbours and ships.", encoding="utf-8")
    embedder = Counting()
    second, messages = build(corpus, index, embedder)
    assert any("0 added, 1 changed, 0 removed" in m for m in messages.infos)
    assert embedder.embedded == 2
    assert rows_of(second, "world/b.md") == rows_of(first, "world/b.md")
    assert set(rows_of(second, "a.txt")).isdisjoint(rows_of(first, "a.txt"))
    hit = Retriever(second, Counting(), str(corpus)).search("harbours ships", 1).hits[0]
    assert hit.passage.doc_key == "a.txt" and "harbours" in hit.passage.text


class RandomVectors(Counting):
    """A dense, deterministic random vector per text: an exact text finds itself at cosine 1."""

    def embed(self, texts, progress=None):
        self.calls += 1
        self.embedded += len(texts)
        out = np.stack([np.random.default_rng(zlib.crc32(t.encode())).standard_normal(self.dim) for t in texts])
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize(("exact_max", "flat_max", "kind"), [(5, 10, "ivf-sq8"), (5, 10_000, "sq8")])
def test_larger_indexes_use_8_bit_codes_and_update_in_place(tmp_path, monkeypatch, exact_max, flat_max, kind):
    import qa.storage.vectors as ann

    monkeypatch.setattr(ann, "EXACT_MAX", exact_max)
    monkeypatch.setattr(ann, "FLAT_MAX", flat_max)
    docs, index = tmp_path / "docs", tmp_path / "idx"
    _many_articles(docs, 60)
    stored, _ = build(docs, index, RandomVectors())
    spec = stored.manifest.vector_index
    assert spec.kind == kind and (kind == "sq8" or 1 <= spec.nprobe <= spec.nlist)
    target = (docs / "story042.txt").read_text()
    retriever = Retriever(stored, RandomVectors(), str(docs))
    assert retriever.search(target, 1, mode="dense").hits[0].passage.doc_key == "story042.txt"
    (docs / "story042.txt").unlink()
    extra = "An extra dispatch about volcanoes erupting."
    (docs / "extra.txt").write_text(extra, encoding="utf-8")
    embedder = RandomVectors()
    updated, _ = build(docs, index, embedder)
    assert embedder.embedded == 2 and updated.vectors.ntotal == updated.count == stored.count
    assert updated.manifest.vector_index == spec, "updated in place: same trained index"
    retriever = Retriever(updated, RandomVectors(), str(docs))
    hit = retriever.search(extra, 1, mode="dense").hits[0]
    assert hit.passage.doc_key == "extra.txt" and hit.dense_score > 0.999
    assert all(h.passage.doc_key != "story042.txt" for h in retriever.search(target, 5, mode="dense").hits)


def test_metadata_edits_of_a_record_are_picked_up(tmp_path):
    docs, index = tmp_path / "docs.jsonl", tmp_path / "idx"
    record = {"id": "r1", "text": "Troops left the city on Friday.", "title": "Old title", "published": "2020-01-01"}
    docs.write_text(json.dumps(record) + "\n", encoding="utf-8")
    build(docs, index)
    docs.write_text(json.dumps({**record, "title": "New title", "published": "2023-03-03"}) + "\n", encoding="utf-8")
    stored, messages = build(docs, index)
    assert any("1 changed" in m for m in messages.infos)
    assert stored.documents["r1"].title == "New title" and stored.documents["r1"].published == "2023-03-03"


def test_a_failed_update_keeps_its_checkpoint_useful(tmp_path):
    docs, index = tmp_path / "docs.jsonl", tmp_path / "idx"
    lines = [json.dumps({"id": f"r{i}", "text": f"Report number {i} about harbour {i}."}) for i in range(20)]
    docs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    build(docs, index)
    docs.write_text('{"oops": 1}\n', encoding="utf-8")
    with pytest.raises(EmptyCorpusError):
        build(docs, index)
    lines[3] = json.dumps({"id": "r3", "text": "A changed report about ferries."})
    docs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    embedder = Counting()
    stored, _ = build(docs, index, embedder)
    assert len(stored.documents) == 20 and embedder.embedded == 2, "only the changed record is embedded"


def test_a_damaged_checkpoint_is_discarded(tmp_path, monkeypatch):
    import qa.indexing.build

    monkeypatch.setattr(qa.indexing.build, "EMBED_BATCH", 1)
    docs, index = tmp_path / "docs", tmp_path / "idx"
    _many_articles(docs, 12)
    with pytest.raises(KeyboardInterrupt):
        build(docs, index, InterruptAfter(6))
    checkpoint = next(p for p in index.iterdir() if p.name.startswith(".build-")) / "store.sqlite"
    data = bytearray(checkpoint.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 8192] = b"\xff" * 8192
    checkpoint.write_bytes(bytes(data))
    embedder = Counting()
    stored, messages = build(docs, index, embedder)
    assert not any("Resuming" in m for m in messages.infos) and embedder.calls == 12
    assert len(stored.documents) == 12


def test_a_damaged_live_store_is_rebuilt(corpus, tmp_path):
    index = tmp_path / "idx"
    stored, _ = build(corpus, index)
    path = stored.path / "store.sqlite"
    data = bytearray(path.read_bytes())
    data[4096:] = b"\xff" * (len(data) - 4096)  # same size: its checksum tells
    path.write_bytes(bytes(data))
    rebuilt, messages = build(corpus, index)
    assert any("unusable" in m and "store.sqlite differs" in m for m in messages.infos), messages.infos
    assert rebuilt.count == stored.count


def test_a_store_damaged_while_answering_is_one_clear_error(corpus, tmp_path):
    from qa.errors import IndexDamagedError
    from qa.storage.database import PassageDatabase

    stored, _ = build(corpus, tmp_path / "idx")
    broken = PassageDatabase(stored.path / "store.sqlite")
    broken._db.close()  # noqa: SLF001 - stands in for a file SQLite can no longer read
    broken._db = __import__("sqlite3").connect(":memory:")  # noqa: SLF001 - no tables: every read fails
    with pytest.raises(IndexDamagedError, match="damaged .*rebuild the index"):
        broken.passages([0])


def test_ties_follow_the_corpus_not_the_update_history(corpus, tmp_path):
    index = tmp_path / "idx"
    text = "Identical wire story about the harbour strike ending on Monday."
    (corpus / "a.txt").write_text(text, encoding="utf-8")
    (corpus / "world" / "b.md").write_text(text, encoding="utf-8")
    fresh, _ = build(corpus, index)
    (corpus / "a.txt").write_text("Something else entirely.", encoding="utf-8")
    build(corpus, index)
    (corpus / "a.txt").write_text(text, encoding="utf-8")
    updated, _ = build(corpus, index)
    assert rows_of(updated, "a.txt") != rows_of(fresh, "a.txt"), "a.txt was re-indexed under new rows"
    for stored in (fresh, updated):
        hits = Retriever(stored, Counting(), str(corpus)).search("harbour strike", 2, group_copies=False).hits
        assert [h.passage.doc_key for h in hits] == ["a.txt", "world/b.md"]


def test_a_resumed_update_takes_reverted_documents_back_from_the_live_index(tmp_path, monkeypatch):
    import qa.indexing.build

    monkeypatch.setattr(qa.indexing.build, "EMBED_BATCH", 1)
    docs, index = tmp_path / "docs", tmp_path / "idx"
    _many_articles(docs, 6)
    original = (docs / "story001.txt").read_text(encoding="utf-8")
    build(docs, index)
    for name in ("story001.txt", "story002.txt", "story003.txt"):
        (docs / name).write_text(f"Edited {name} about rivers.", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        build(docs, index, InterruptAfter(2))  # story001 and story002 committed in their edited form
    (docs / "story001.txt").write_text(original, encoding="utf-8")  # reverted meanwhile
    embedder = Counting()
    stored, messages = build(docs, index, embedder)
    assert any("Resuming" in m for m in messages.infos)
    assert embedder.calls == 1, "only story003 is embedded; story001 comes back from the live index"
    assert [p.text for p in passages_of(stored)] == [p.text for p in passages_of(build(docs, tmp_path / "fresh")[0])]


# -- the on-disk contract: what every index since format 4 holds, and what a build must keep writing ---------

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
LEGACY_COLUMNS = ["key", "path", "source_id", "sha256", "title", "publisher", "published", "url", "encoding", "byline"]
MANIFEST_KEYS = {
    "created_at": None,
    "model": ["name", "dim", "normalized", "metric", "backend"],
    "chunking": ["min_words", "max_words", "overlap"],
    "extraction": ["fingerprint"],
    "corpus": ["kind", "root"],
    "counts": ["documents", "passages"],
    "vector_index": ["kind", "nlist", "nprobe"],
    "build_key": None,
    "last_build": ["embedded_passages", "reused_documents", "resumed", "passages_per_second"],
    "versions": None,
    "format": None,
    "format_version": None,
    "files": None,
    "checksums": None,  # added (issue 15): a manifest without it loads, its files checked by size only
}
SQLITE_COLUMNS = {
    "documents": ["key", "position", "sha256", "meta"],
    "passages": [
        "row",
        "uid",
        "doc",
        "start",
        "end",
        "line_start",
        "line_end",
        "text",
        "vector",
        "spans",
        "sentence_vectors",
    ],
    "files": ["relpath", "size", "mtime_ns", "sha256", "documents"],
    "state": ["key", "value"],
}
BM25_FILES = [
    "bm25/data.csc.index.npy",
    "bm25/indices.csc.index.npy",
    "bm25/indptr.csc.index.npy",
    "bm25/params.index.json",
    "bm25/rows.npy",
    "bm25/stopwords.json",
    "bm25/vocab.index.json",
]


def test_a_format_4_manifest_loads_and_is_written_back_the_same():
    from qa.storage.manifest import Manifest

    text = (GOLDEN / "manifest-format4.json").read_text(encoding="utf-8")  # written before the manifest was typed
    manifest = Manifest.from_dict(json.loads(text))
    assert manifest.model.name == "all-MiniLM-L6-v2" and manifest.counts.passages == 47
    assert json.dumps(manifest.to_dict(), indent=2, ensure_ascii=False) + "\n" == text, "same keys, order, values"


def test_documents_json_columns_are_named_not_positional():
    from dataclasses import make_dataclass

    from qa.records import DocumentMeta
    from qa.storage.generations import DOCUMENT_COLUMNS, documents_from_rows, documents_rows

    assert list(DOCUMENT_COLUMNS) == LEGACY_COLUMNS
    row = ["k", "p.txt", "id1", "ab12", "T", "Pub", "2022-01-13", "u", "utf-8", "B"]
    values = dict(zip(LEGACY_COLUMNS, row, strict=True))
    meta = DocumentMeta(**values)
    assert documents_rows([meta]) == [row]
    assert documents_from_rows([row]) == {"k": meta}
    # a record with the same fields in another order is written in the same column order
    shuffled = make_dataclass("Shuffled", list(reversed(LEGACY_COLUMNS)))(**values)
    assert documents_rows([shuffled]) == [row]


def test_the_on_disk_format_is_pinned(corpus, tmp_path):
    import hashlib
    import sqlite3

    import faiss

    from qa.extract.article import EXTRACTOR_ID
    from qa.indexing.changes import build_key

    index = tmp_path / "idx"
    stored, _ = build(corpus, index, HashEmbedder())
    gen = stored.path
    assert {p.name for p in index.iterdir()} - {".lock"} == {CURRENT, gen.name}
    manifest = json.loads((gen / MANIFEST).read_text(encoding="utf-8"))
    assert sorted(manifest["files"]) == sorted(["documents.json", "store.sqlite", "vectors.faiss", *BM25_FILES])
    assert {p.relative_to(gen).as_posix() for p in gen.rglob("*") if p.is_file()} == {*manifest["files"], MANIFEST}
    assert list(manifest) == list(MANIFEST_KEYS)
    assert set(manifest["checksums"]) == set(manifest["files"])
    assert all(len(c["sha256"]) == 64 for c in manifest["checksums"].values())
    for key, members in MANIFEST_KEYS.items():
        assert members is None or list(manifest[key]) == members, key
    assert manifest["format"] == "newsqa-index" and manifest["format_version"] == FORMAT_VERSION == 4
    rows = json.loads((gen / "documents.json").read_text(encoding="utf-8"))
    assert rows == [[getattr(meta, c) for c in LEGACY_COLUMNS] for meta in stored.documents.values()]
    db = sqlite3.connect(gen / "store.sqlite")
    try:
        for table, columns in SQLITE_COLUMNS.items():
            assert [r[1] for r in db.execute(f"PRAGMA table_info({table})")] == columns, table
        passage_rows = sorted(r for (r,) in db.execute("SELECT row FROM passages"))
    finally:
        db.close()
    vectors = faiss.read_index(str(gen / "vectors.faiss"))
    assert sorted(faiss.vector_to_array(vectors.id_map).tolist()) == passage_rows, "FAISS id = passage row"
    parts = ["hash", 256, ChunkSettings().to_dict(), EXTRACTOR_ID, FORMAT_VERSION]
    expected = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    assert manifest["build_key"] == build_key(HashEmbedder(), ChunkSettings()) == expected


def test_build_keys_of_indexes_built_before_the_restructure_are_unchanged():
    from qa.indexing.changes import build_key

    class MiniLM:  # what build_key reads of the default model
        name, dim = "all-MiniLM-L6-v2", 384

    recorded = json.loads((GOLDEN / "manifest-format4.json").read_text(encoding="utf-8"))["build_key"]
    assert build_key(MiniLM(), ChunkSettings()) == recorded  # type: ignore[arg-type]


class Pooling(HashEmbedder):
    """An embedder that pools sentence vectors from its passage pass (here: the hashed sentence itself)."""

    sentence_vectors = "pooled"

    def __init__(self) -> None:
        super().__init__(256)
        self.name = "hash"
        self.pooled_calls = 0

    def embed_with_spans(self, texts, spans):
        self.pooled_calls += 1
        return self.embed(texts), [
            self.embed([text[s:e] for s, e in found]) for text, found in zip(texts, spans, strict=True)
        ]


def test_sentence_vectors_pooled_by_the_model_are_recorded_and_an_encoded_index_is_rebuilt(corpus, tmp_path):
    from qa.indexing.changes import build_key

    index = tmp_path / "idx"
    encoded, _ = build(corpus, index, Counting())
    assert encoded.manifest.model.sentences == "encoded"
    pooling = Pooling()
    pooled, messages = build(corpus, index, pooling)
    assert any("sentence vectors are now pooled (were encoded), rebuilding" in m for m in messages.infos)
    assert pooling.pooled_calls >= 1 and pooled.manifest.model.sentences == "pooled"
    manifest = json.loads((pooled.path / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["model"]["sentences"] == "pooled"
    assert manifest["build_key"] == build_key(pooling, ChunkSettings()) != build_key(Counting(), ChunkSettings())
    assert sentence_count(pooled) == sentence_count(encoded) > 0  # the same sentences, each with a vector
    again, messages = build(corpus, index, Pooling())
    assert again.path == pooled.path and not any("rebuilding" in m for m in messages.infos)


def test_a_build_records_how_fast_it_embedded(corpus, tmp_path):
    stored, _ = build(corpus, tmp_path / "idx", Counting())
    assert stored.manifest.last_build.passages_per_second > 0
    unchanged, _ = build(corpus, tmp_path / "idx", Counting())
    assert unchanged.path == stored.path  # nothing embedded, nothing rewritten: the figure stays that of the build


def test_the_progress_starts_after_the_model_is_prepared_and_ends_full(corpus, tmp_path, monkeypatch):
    """A first build on a new CPU prepares the model before the bar starts, so its rate and time left leave the
    preparation out; the bar ends at the total."""
    import qa.embed.bulk as bulk

    events: list[tuple] = []

    class Recording(Messages):
        def info(self, message):
            events.append(("info", message))

        def progress(self, done, total):
            events.append(("progress", done, total))

    monkeypatch.setattr(bulk, "needs_preparation", lambda *args: True)
    ensure_index(corpus, tmp_path / "idx", Counting(), ChunkSettings(), reporter=Recording())
    preparing = next(i for i, e in enumerate(events) if e[0] == "info" and e[1].startswith("Preparing the model"))
    progress = [i for i, e in enumerate(events) if e[0] == "progress"]
    assert progress and preparing < progress[0]
    last = events[progress[-1]]
    assert last[1] == last[2] == 2  # the corpus fixture's two files


def test_the_ready_message_counts_in_words(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Troops began to leave Kazakhstan on Thursday after a week.\n", encoding="utf-8")
    _, messages = build(docs, tmp_path / "idx")
    assert any(m.startswith("Index ready: 1 document, 1 passage in ") for m in messages.infos), messages.infos
