"""The on-disk index: immutable generations behind a CURRENT pointer, built aside and switched atomically.

Layout of an index folder::

    CURRENT                  name of the live generation, replaced atomically after a build
    gen-<time>-<rand>/       one complete, immutable build
        manifest.json        format, model, backend, chunking, vector index kind, counts, file sizes, versions
        store.sqlite         documents, passages (text, offsets, vectors, sentence spans and vectors), files
        documents.json       the documents' metadata in corpus order again: one array of rows, each row the
                             DOCUMENT_COLUMNS of one document in that order (a cold start parses it fast)
        vectors.faiss        FAISS index over the passages' L2-normalised vectors; FAISS id = passage row
        bm25/                bm25s index over the passage texts, rows.npy maps its documents to rows
        DAMAGED              written when answering found a stored passage that is not its file's slice
                             (the reason inside): the generation no longer loads, so the next use rebuilds
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
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from filelock import FileLock, Timeout

import qa.storage.vectors as ann
from qa.errors import IndexBusyError, IndexDamagedError, IndexLocationError, is_disk_full, no_space_message
from qa.records import DocumentMeta, Passage
from qa.storage.bm25 import LexicalIndex
from qa.storage.checksums import checksum_of
from qa.storage.database import PassageDatabase
from qa.storage.manifest import FORMAT, FORMAT_VERSION, MANIFEST, Manifest, read_manifest, write_manifest

__all__ = [
    "CURRENT",
    "DAMAGED",
    "DOCUMENTS",
    "DOCUMENT_COLUMNS",
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "STORE",
    "VECTORS",
    "StoredIndex",
    "begin_build",
    "build_lock",
    "checkpoint_documents",
    "finish_build",
    "live_generation",
    "damaged",
    "mark_damaged",
    "read_index",
    "remove_stale",
]

CURRENT = "CURRENT"
DAMAGED = "DAMAGED"
VECTORS = "vectors.faiss"
STORE = "store.sqlite"
DOCUMENTS = "documents.json"
LEXICAL = "bm25"
_GENERATION = re.compile(r"^gen-[0-9T]+-[0-9a-f]{8}$")
_BUILD_PREFIX = ".build-"
# the columns of documents.json, in the order every index since format 4 has written them
DOCUMENT_COLUMNS = (
    "key",
    "path",
    "source_id",
    "sha256",
    "title",
    "publisher",
    "published",
    "url",
    "encoding",
    "byline",
)


@dataclass
class StoredIndex:
    """A loaded generation. Vectors and BM25 are in memory (or mapped); passages are read on demand."""

    path: Path
    manifest: Manifest
    documents: dict[str, DocumentMeta]
    _database: PassageDatabase
    vectors: faiss.Index
    lexical: LexicalIndex
    _whole_check: WholeCheck | None = None  # large files hashed whole in the background after the load

    @property
    def count(self) -> int:
        return int(self.vectors.ntotal)

    def confirm(self) -> None:
        """Wait for the background check of the large files; raises IndexDamagedError when one differs."""
        if self._whole_check is not None:
            self._whole_check.wait()

    def passage(self, row: int) -> Passage:
        return self._database.passage(int(row))

    def passages(self, rows: Iterable[int]) -> dict[int, Passage]:
        return self._database.passages(rows)

    def sentences_of(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Spans (k, 2) and float16 vectors (k, dim) of passage `row`'s sentences."""
        return self._database.sentences_of(row)

    def vectors_of(self, rows: Iterable[int]) -> dict[int, np.ndarray]:
        return self._database.vectors(rows)

    def iter_passages(self) -> Iterator[tuple[int, Passage]]:
        """(row, passage) for every passage: documents in corpus order, passages in text order."""
        return self._database.iter_in_order()

    def sentences(self, rows: Iterable[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """row -> (spans (k, 2), float16 vectors (k, dim)) of each passage's sentences."""
        return self._database.sentences(rows)

    def rows_of_documents(self, keys: Iterable[str]) -> np.ndarray:
        """Ascending rows of every passage of these documents."""
        return self._database.rows_of_documents(keys)

    def files(self) -> dict[str, dict[str, Any]]:
        """The corpus files the index was built from: relpath -> size, mtime_ns, sha256, documents."""
        return self._database.files()

    def document_passages(self, key: str) -> list[tuple[int, Passage]]:
        """(row, passage) of one document's passages, in text order."""
        return self._database.document_passages(key)

    def passage_with_id(self, passage_id: str) -> tuple[int, Passage] | None:
        return self._database.passage_with_id(passage_id)

    def passage_counts(self) -> dict[str, int]:
        """Document key -> how many passages it has."""
        return self._database.passage_counts()

    @property
    def ann(self) -> ann.AnnSpec:
        return self.manifest.vector_index

    def close(self) -> None:
        self._database.close()


class WholeCheck:
    """The large files of a generation hashed whole on a thread of their own (hashlib releases the GIL)."""

    def __init__(self, gen: Path, manifest: Manifest, names: list[str]) -> None:
        self._error: IndexDamagedError | None = None
        self._thread = threading.Thread(target=self._run, args=(gen, manifest, names), daemon=True)
        self._thread.start()

    def _run(self, gen: Path, manifest: Manifest, names: list[str]) -> None:
        try:
            manifest.check_whole(gen, names)
        except IndexDamagedError as exc:
            self._error = exc

    def wait(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


def read_index(index_dir: Path, *, full: bool = False) -> StoredIndex | None:
    """Load the live generation, or None when the folder holds no index yet.

    Raises IndexDamagedError when what is there cannot be trusted (truncated, altered, foreign, other
    version). Each load checks sizes and checksums (qa/storage/checksums.py); `full` checks every byte of
    every file and the database's own integrity as well (`ask.py index verify`).
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
    if (gen / DAMAGED).exists():
        raise IndexDamagedError(f"it was found damaged: {_damage_reason(gen)}")
    manifest = read_manifest(gen)
    manifest.check(gen, full=full)
    try:
        vectors = ann.read(str(gen / VECTORS))
        database = PassageDatabase(gen / STORE)
        documents = _documents(gen, database)
        lexical = LexicalIndex.load(gen / LEXICAL)
    except (RuntimeError, OSError, ValueError, TypeError, KeyError, sqlite3.Error) as exc:
        raise IndexDamagedError(f"cannot read the index files ({str(exc).splitlines()[0][:120]})") from exc
    if full and not database.integrity_ok():
        database.close()
        raise IndexDamagedError("store.sqlite fails SQLite's integrity check")
    counts = manifest.counts
    if not (vectors.ntotal == lexical.size == counts.passages) or len(documents) != counts.documents:
        raise IndexDamagedError("vectors, passages and manifest disagree on counts")
    if vectors.d != manifest.model.dim or database.dim != vectors.d:
        raise IndexDamagedError("vector dimension differs from the manifest")
    sampled = [] if full else manifest.sampled()
    whole = WholeCheck(gen, manifest, sampled) if sampled else None
    return StoredIndex(gen, manifest, documents, database, vectors, lexical, whole)


def mark_damaged(gen: Path, reason: str) -> bool:
    """Record that generation `gen` cannot be trusted, so that it no longer loads; False when the folder is
    read-only (then only a rebuild by someone who can write there repairs it)."""
    try:
        _write_text(gen / f"{DAMAGED}.tmp", reason + "\n")
        os.replace(gen / f"{DAMAGED}.tmp", gen / DAMAGED)
    except OSError:
        return False
    return True


def damaged(gen: Path, reason: str) -> IndexDamagedError:
    """Mark generation `gen` damaged and return the one-line error that says so and what happens next."""
    remedy = (
        "the next use rebuilds it"
        if mark_damaged(gen, reason)
        else "the folder is read-only, so only a rebuild by someone who can write there repairs it"
    )
    return IndexDamagedError(f"the index in {gen.parent} is damaged ({reason}); {remedy}")


def _damage_reason(gen: Path) -> str:
    try:
        return (gen / DAMAGED).read_text(encoding="utf-8").strip()[:200] or "no reason recorded"
    except (OSError, UnicodeDecodeError):
        return "no reason recorded"


def documents_rows(documents: Iterable[DocumentMeta]) -> list[list[Any]]:
    """documents.json's rows: each document's DOCUMENT_COLUMNS, by name, in that order."""
    return [[getattr(meta, column) for column in DOCUMENT_COLUMNS] for meta in documents]


def documents_from_rows(rows: list[list[Any]]) -> dict[str, DocumentMeta]:
    """documents.json's rows back into records, in their order (keyed by document key)."""
    metas = (DocumentMeta(**dict(zip(DOCUMENT_COLUMNS, row, strict=True))) for row in rows)
    return {meta.key: meta for meta in metas}


def _documents(gen: Path, database: PassageDatabase) -> dict[str, DocumentMeta]:
    """The generation's documents in corpus order, from documents.json (fast) or the database."""
    if not (gen / DOCUMENTS).is_file():
        return database.documents()
    return documents_from_rows(json.loads((gen / DOCUMENTS).read_text(encoding="utf-8")))


def live_generation(index_dir: Path) -> str | None:
    """The name of the generation CURRENT names, without loading it (None when there is none)."""
    try:
        name = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return name if _GENERATION.match(name) else None


def begin_build(index_dir: Path, key: str, dim: int, seed: Path | None) -> tuple[Path, PassageDatabase, bool]:
    """The work folder of a build with this `key` and its writable database; True when resuming one.

    A build interrupted earlier with the same key is resumed from what it committed. Otherwise the
    database starts as a copy of `seed`'s (the live generation's, so unchanged documents keep their
    rows and vectors) or empty. Work folders of other keys are stale and removed.
    """
    work = index_dir / f"{_BUILD_PREFIX}{key[:16]}"
    with _index_location(index_dir):
        for entry in index_dir.iterdir():
            if entry.name.startswith(_BUILD_PREFIX) and entry != work:
                shutil.rmtree(entry, ignore_errors=True)
        checkpoint = _checkpoint(work, key)
        if checkpoint is not None:
            return work, checkpoint, True
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        if seed is not None and (seed / STORE).is_file():
            shutil.copyfile(seed / STORE, work / f"{STORE}.partial")
            os.replace(work / f"{STORE}.partial", work / STORE)  # a half-copied file never looks resumable
        database = PassageDatabase(work / STORE, writable=True)
        database.set_state("dim", str(dim))
        database.set_state("seeded_from", seed.name if seed is not None else "")
        database.set_state("build_key", key)
        return work, database, False


def _checkpoint(work: Path, key: str) -> PassageDatabase | None:
    """The intact database an interrupted build with this key left in `work`, opened for writing."""
    if not (work / STORE).is_file():
        return None
    try:
        database = PassageDatabase(work / STORE, writable=True)
        if database.integrity_ok() and database.state("build_key") == key:
            return database
        database.close()
    except Exception:  # noqa: BLE001 - an unreadable leftover: start over
        pass
    return None


def checkpoint_documents(index_dir: Path, key: str) -> int:
    """Documents committed by an interrupted build with this key, which the next build resumes (0: none)."""
    path = index_dir / f"{_BUILD_PREFIX}{key[:16]}" / STORE
    if not path.is_file():
        return 0
    try:
        database = PassageDatabase(path)
        try:
            return database.document_count() if database.state("build_key") == key else 0
        finally:
            database.close()
    except sqlite3.Error:
        return 0


def finish_build(
    work: Path, database: PassageDatabase, manifest: Manifest, vectors: faiss.Index, lexical: LexicalIndex
) -> Path:
    """Complete the work folder into a generation and switch CURRENT to it in one atomic rename.

    `manifest` is written with the sizes of the files. A crash or Ctrl-C at any point leaves the
    previous generation live and intact.
    """
    index_dir = work.parent
    try:
        _write_generation(work, database, manifest, vectors, lexical)
        gen = index_dir / f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        os.rename(work, gen)
        if (index_dir / CURRENT).is_dir():  # a damaged pointer: ours to replace
            shutil.rmtree(index_dir / CURRENT)
        _write_text(index_dir / f"{CURRENT}.tmp", gen.name + "\n")
        _fsync(index_dir / f"{CURRENT}.tmp")
        os.replace(index_dir / f"{CURRENT}.tmp", index_dir / CURRENT)
        _fsync_dir(index_dir)
    except (OSError, RuntimeError, sqlite3.OperationalError) as exc:  # FAISS says a full disk in a RuntimeError
        if is_disk_full(exc):
            raise IndexLocationError(no_space_message(index_dir)) from exc
        if not isinstance(exc, OSError):
            raise
        raise IndexLocationError(f"cannot write the index in {index_dir}: {exc.strerror or exc}") from exc
    remove_stale(index_dir, keep=gen.name)
    return gen


def _write_generation(
    work: Path, database: PassageDatabase, manifest: Manifest, vectors: faiss.Index, lexical: LexicalIndex
) -> None:
    """Write every file of the generation beside the database, the manifest last, and sync them to disk."""
    rows = documents_rows(database.documents().values())
    database.close()
    # the document list once more, as one JSON array: a cold start parses it in one call
    _write_text(work / DOCUMENTS, json.dumps(rows, ensure_ascii=False))
    faiss.write_index(vectors, str(work / VECTORS))
    lexical.save(work / LEXICAL)  # nothing to do when it was built there
    (work / MANIFEST).unlink(missing_ok=True)
    written = [path for path in sorted(work.rglob("*")) if path.is_file()]
    files = {path.relative_to(work).as_posix(): path.stat().st_size for path in written}
    checksums = {path.relative_to(work).as_posix(): checksum_of(path) for path in written}
    write_manifest(work, replace(manifest, files=files, checksums=checksums))
    for path in work.rglob("*"):
        if path.is_file():
            _fsync(path)


def remove_stale(index_dir: Path, keep: str | None) -> None:
    """Delete old generations and abandoned temporary folders (only our own names, under the lock)."""
    for entry in index_dir.iterdir():
        ours = _GENERATION.match(entry.name) or entry.name.startswith((".tmp-", _BUILD_PREFIX))
        if ours and entry.is_dir() and entry.name != keep:
            shutil.rmtree(entry, ignore_errors=True)


@contextlib.contextmanager
def build_lock(index_dir: Path, timeout: float, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
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
        if is_disk_full(exc):
            raise IndexLocationError(no_space_message(index_dir)) from exc
        raise IndexLocationError(f"cannot use {index_dir} as an index folder: {exc.strerror or exc}") from exc


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
