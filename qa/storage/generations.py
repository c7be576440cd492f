"""The on-disk index: immutable generations behind a CURRENT pointer, built aside and switched atomically.

Layout of an index folder::

    CURRENT                  name of the live generation, replaced atomically after a build
    gen-<time>-<rand>/       one complete, immutable build
        manifest.json        format, model, backend, chunking, vector index kind, counts, file sizes, versions
        store.sqlite         documents, passages (text, offsets, vectors, sentence spans and vectors), files
        documents.json       the documents' metadata in corpus order again, one array of field lists (fast)
        vectors.faiss        FAISS index over the passages' L2-normalised vectors; FAISS id = passage row
        bm25/                bm25s index over the passage texts, rows.npy maps its documents to rows
    .build-<key>/            a build in progress: its store.sqlite is committed document by document, so
                             an interrupted build resumes from there; renamed to gen-... when complete
    .lock                    held while a build runs
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from filelock import FileLock, Timeout

import qa.storage.vectors as ann
from qa.errors import IndexBusyError, IndexDamagedError, IndexLocationError
from qa.records import DocumentMeta, Passage
from qa.storage.bm25 import LexicalIndex
from qa.storage.database import PassageStore

__all__ = ["DocumentMeta", "StoredIndex", "read_index", "begin_build", "finish_build", "build_lock"]

FORMAT = "newsqa-index"
FORMAT_VERSION = 4
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
STORE = "store.sqlite"
DOCUMENTS = "documents.json"
LEXICAL = "bm25"
_GENERATION = re.compile(r"^gen-[0-9T]+-[0-9a-f]{8}$")
_BUILD_PREFIX = ".build-"


@dataclass
class StoredIndex:
    """A loaded generation. Vectors and BM25 are in memory (or mapped); passages are read on demand."""

    path: Path
    manifest: dict[str, Any]
    documents: dict[str, DocumentMeta]
    store: PassageStore
    vectors: faiss.Index
    lexical: LexicalIndex

    @property
    def count(self) -> int:
        return int(self.vectors.ntotal)

    def passage(self, row: int) -> Passage:
        return self.store.passage(int(row))

    def passages(self, rows: Iterable[int]) -> dict[int, Passage]:
        return self.store.passages(rows)

    def sentences_of(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Spans (k, 2) and float16 vectors (k, dim) of passage `row`'s sentences."""
        return self.store.sentences_of(row)

    def vectors_of(self, rows: Iterable[int]) -> dict[int, np.ndarray]:
        return self.store.vectors(rows)

    def iter_passages(self) -> Iterator[tuple[int, Passage]]:
        """(row, passage) for every passage: documents in corpus order, passages in text order."""
        return self.store.iter_in_order()

    def sentences(self, rows: Iterable[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """row -> (spans (k, 2), float16 vectors (k, dim)) of each passage's sentences."""
        return self.store.sentences(rows)

    def rows_of_documents(self, keys: Iterable[str]) -> np.ndarray:
        """Ascending rows of every passage of these documents."""
        return self.store.rows_of_documents(keys)

    def files(self) -> dict[str, dict[str, Any]]:
        """The corpus files the index was built from: relpath -> size, mtime_ns, sha256, documents."""
        return self.store.files()

    def document_passages(self, key: str) -> list[tuple[int, Passage]]:
        """(row, passage) of one document's passages, in text order."""
        return self.store.document_passages(key)

    def passage_with_id(self, passage_id: str) -> tuple[int, Passage] | None:
        return self.store.passage_with_id(passage_id)

    def passage_counts(self) -> dict[str, int]:
        """Document key -> how many passages it has."""
        return self.store.passage_counts()

    @property
    def ann(self) -> ann.AnnSpec:
        return ann.AnnSpec.from_dict(self.manifest.get("vector_index", {}))


def read_index(index_dir: Path) -> StoredIndex | None:
    """Load the live generation, or None when the folder holds no index yet.

    Raises IndexDamagedError when what is there cannot be trusted (truncated, foreign, other version).
    """
    pointer = index_dir / CURRENT
    if not pointer.exists():
        return None
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexDamagedError(f"unreadable {CURRENT} file ({exc})") from exc
    if not _GENERATION.match(name) or not (index_dir / name).is_dir():
        raise IndexDamagedError(f"{CURRENT} names no build of this tool ({name[:40]!r})")
    gen = index_dir / name
    manifest = _read_manifest(gen)
    for filename, size in manifest.get("files", {}).items():
        try:
            actual = (gen / filename).stat().st_size
        except OSError:  # missing, or removed by a build that finished meanwhile
            actual = None
        if actual != size:
            raise IndexDamagedError(f"{filename} is {'missing' if actual is None else 'truncated or altered'}")
    try:
        vectors = ann.read(str(gen / VECTORS))
        passages = PassageStore(gen / STORE)
        documents = _documents(gen, passages)
        lexical = LexicalIndex.load(gen / LEXICAL)
    except (RuntimeError, OSError, ValueError, TypeError, KeyError, sqlite3.Error) as exc:
        raise IndexDamagedError(f"cannot read the index files ({str(exc).splitlines()[0][:120]})") from exc
    counts = manifest.get("counts", {})
    if not (vectors.ntotal == lexical.size == counts.get("passages")) or len(documents) != counts.get("documents"):
        raise IndexDamagedError("vectors, passages and manifest disagree on counts")
    if vectors.d != manifest.get("model", {}).get("dim") or passages.dim != vectors.d:
        raise IndexDamagedError("vector dimension differs from the manifest")
    return StoredIndex(gen, manifest, documents, passages, vectors, lexical)


def _documents(gen: Path, passages: PassageStore) -> dict[str, DocumentMeta]:
    """The generation's documents in corpus order, from documents.json (fast) or the store."""
    if not (gen / DOCUMENTS).is_file():
        return passages.documents()
    rows = json.loads((gen / DOCUMENTS).read_text(encoding="utf-8"))  # one array of field lists
    return {row[0]: DocumentMeta(*row) for row in rows}


def live_generation(index_dir: Path) -> str | None:
    """The name of the generation CURRENT names, without loading it (None when there is none)."""
    try:
        name = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return name if _GENERATION.match(name) else None


def begin_build(index_dir: Path, key: str, dim: int, seed: Path | None) -> tuple[Path, PassageStore, bool]:
    """The work folder of a build with this `key` and its writable store; True when resuming one.

    A build interrupted earlier with the same key is resumed from what it committed. Otherwise the
    store starts as a copy of `seed` (the live generation's store, so unchanged documents keep their
    rows and vectors) or empty. Work folders of other keys are stale and removed.
    """
    work = index_dir / f"{_BUILD_PREFIX}{key[:16]}"
    with _index_location(index_dir):
        for entry in index_dir.iterdir():
            if entry.name.startswith(_BUILD_PREFIX) and entry != work:
                shutil.rmtree(entry, ignore_errors=True)
        if (work / STORE).is_file():
            try:
                store = PassageStore(work / STORE, writable=True)
                intact = store.integrity_ok()
                if intact and store.state("build_key") == key:
                    return work, store, True
                store.close()
            except Exception:  # noqa: BLE001 - an unreadable leftover: start over
                pass
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        if seed is not None and (seed / STORE).is_file():
            shutil.copyfile(seed / STORE, work / f"{STORE}.partial")
            os.replace(work / f"{STORE}.partial", work / STORE)  # a half-copied file never looks resumable
        store = PassageStore(work / STORE, writable=True)
        store.set_state("dim", str(dim))
        store.set_state("seeded_from", seed.name if seed is not None else "")
        store.set_state("build_key", key)
        return work, store, False


def checkpoint_documents(index_dir: Path, key: str) -> int:
    """Documents committed by an interrupted build with this key, which the next build resumes (0: none)."""
    path = index_dir / f"{_BUILD_PREFIX}{key[:16]}" / STORE
    if not path.is_file():
        return 0
    try:
        st = PassageStore(path)
        try:
            return st.document_count() if st.state("build_key") == key else 0
        finally:
            st.close()
    except sqlite3.Error:
        return 0


def finish_build(
    index_dir: Path,
    work: Path,
    store: PassageStore,
    manifest: dict[str, Any],
    vectors: faiss.Index,
    lexical: LexicalIndex,
) -> Path:
    """Complete the work folder into a generation and switch CURRENT to it in one atomic rename.

    A crash or Ctrl-C at any point leaves the previous generation live and intact.
    """
    try:
        metas = [astuple(meta) for meta in store.documents().values()]
        store.close()
        # the document list once more, as one JSON array: a cold start parses it in one call
        _write_text(work / DOCUMENTS, json.dumps(metas, ensure_ascii=False))
        faiss.write_index(vectors, str(work / VECTORS))
        shutil.rmtree(work / LEXICAL, ignore_errors=True)
        lexical.save(work / LEXICAL)
        (work / MANIFEST).unlink(missing_ok=True)
        manifest = {
            **manifest,
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "files": {
                path.relative_to(work).as_posix(): path.stat().st_size
                for path in sorted(work.rglob("*"))
                if path.is_file()
            },
        }
        _write_text(work / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        for path in work.rglob("*"):
            if path.is_file():
                _fsync(path)
        gen = index_dir / f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        os.rename(work, gen)
        if (index_dir / CURRENT).is_dir():  # a damaged pointer: ours to replace
            shutil.rmtree(index_dir / CURRENT)
        _write_text(index_dir / f"{CURRENT}.tmp", gen.name + "\n")
        _fsync(index_dir / f"{CURRENT}.tmp")
        os.replace(index_dir / f"{CURRENT}.tmp", index_dir / CURRENT)
        _fsync_dir(index_dir)
    except OSError as exc:
        raise IndexLocationError(f"cannot write the index in {index_dir}: {exc.strerror or exc}") from exc
    remove_stale(index_dir, keep=gen.name)
    return gen


def remove_stale(index_dir: Path, keep: str | None) -> None:
    """Delete old generations and abandoned temporary folders (only our own names, under the lock)."""
    for entry in index_dir.iterdir():
        ours = _GENERATION.match(entry.name) or entry.name.startswith((".tmp-", _BUILD_PREFIX))
        if ours and entry.is_dir() and entry.name != keep:
            shutil.rmtree(entry, ignore_errors=True)


@contextlib.contextmanager
def build_lock(index_dir: Path, timeout: float, on_wait=None) -> Iterator[None]:
    """Hold the index's build lock; waits up to `timeout` seconds for another build to finish."""
    lock = FileLock(str(index_dir / ".lock"))
    try:
        with _index_location(index_dir):
            lock.acquire(timeout=0)
    except Timeout:
        if on_wait:
            on_wait()
        try:
            lock.acquire(timeout=timeout)
        except Timeout as exc:
            raise IndexBusyError(
                f"another process has been building {index_dir} for over {timeout:.0f}s; try again later"
            ) from exc
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def _index_location(index_dir: Path) -> Iterator[None]:
    """Create the index folder; turn OS errors about it into one clear IndexLocationError."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        yield
    except Timeout:  # filelock's Timeout is an OSError too; it means "busy", not "unusable"
        raise
    except OSError as exc:
        raise IndexLocationError(f"cannot use {index_dir} as an index folder: {exc.strerror or exc}") from exc


def _read_manifest(gen: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((gen / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexDamagedError("manifest.json is missing") from exc
    except (OSError, ValueError) as exc:
        raise IndexDamagedError("manifest.json is truncated or not JSON") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexDamagedError("not an index written by this tool")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexDamagedError(
            f"written by another version of this tool (format {manifest.get('format_version')}, not {FORMAT_VERSION})"
        )
    shape = {"model": dict, "chunking": dict, "corpus": dict, "counts": dict, "files": dict, "vector_index": dict}
    wrong = [key for key, kind in shape.items() if not isinstance(manifest.get(key), kind)]
    if wrong:
        raise IndexDamagedError(f"manifest.json has an unexpected structure ({', '.join(wrong)})")
    return manifest


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        _fsync(path)
