"""The passage database: documents, passages, their vectors and sentence vectors in one SQLite file.

Every passage has a `row`: an integer assigned when it is first stored and never reused or changed
afterwards. FAISS ids, BM25 rows and everything the retriever passes around are these rows, so an
incremental update only adds and removes rows. Nothing is held in memory: lookups go to SQLite (a
passage, its vector, its sentences), so a million passages cost disk, not resident memory.

Tables::

    documents(key, position, sha256, meta)      meta: DocumentMeta as JSON; position: order in the corpus;
                                                sha256: the version of the document as read (text and
                                                the metadata it carries), what an update compares
    passages(row, uid, doc, start, end, line_start, line_end, text, vector, spans, sentence_vectors)
                                                vector float32 (dim,); spans int64 (k, 2) raw offsets of
                                                the passage's sentences; sentence_vectors float16 (k, dim)
    files(relpath, size, mtime_ns, sha256, documents)   the corpus files the documents came from
    state(key, value)                           build key, dimension, next row
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from qa.errors import IndexDamagedError, IndexLocationError, is_disk_full, no_space_message
from qa.records import DocumentMeta, Passage, StoredPassage

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (key TEXT PRIMARY KEY, position INTEGER NOT NULL, sha256 TEXT NOT NULL,
                                      meta TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS passages (row INTEGER PRIMARY KEY, uid TEXT NOT NULL, doc TEXT NOT NULL,
                                     start INTEGER NOT NULL, "end" INTEGER NOT NULL, line_start INTEGER NOT NULL,
                                     line_end INTEGER NOT NULL, text TEXT NOT NULL, vector BLOB NOT NULL,
                                     spans BLOB NOT NULL, sentence_vectors BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS passages_doc ON passages (doc, start);
CREATE TABLE IF NOT EXISTS files (relpath TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, sha256 TEXT,
                                  documents INTEGER);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_PASSAGE_COLUMNS = 'row, uid, doc, start, "end", line_start, line_end, text'
_T = TypeVar("_T")


class PassageDatabase:
    """One SQLite file. Opened read-only (immutable) to answer, writable while a build fills it."""

    def __init__(self, path: Path, *, writable: bool = False) -> None:
        self.path = path
        if writable:
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=DELETE")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        else:
            uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
            self._db.execute("SELECT count(*) FROM state").fetchone()  # fails now if it is not our database
        self._lock = threading.Lock()
        self._dim: int | None = None
        self.passage = lru_cache(maxsize=4096)(self._passage)

    def close(self) -> None:
        self._db.close()

    # -- reads -------------------------------------------------------------------------------------

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, tuple(params)).fetchall()
            except sqlite3.DatabaseError as exc:
                raise IndexDamagedError(f"the passage store {self.path} is damaged ({exc}); rebuild the index") from exc

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self.state("dim") or 0)
        return self._dim

    def integrity_ok(self) -> bool:
        """SQLite's own consistency check (a checkpoint is checked before a build resumes from it)."""
        try:
            return bool(self._query("PRAGMA quick_check")[0][0] == "ok")
        except IndexDamagedError:
            return False

    def state(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM state WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def count(self) -> int:
        return int(self._query("SELECT count(*) FROM passages")[0][0])

    def document_count(self) -> int:
        return int(self._query("SELECT count(*) FROM documents")[0][0])

    def documents(self) -> dict[str, DocumentMeta]:
        """All documents in corpus order."""
        rows = self._query("SELECT meta FROM documents ORDER BY position")
        metas = (DocumentMeta(**json.loads(meta)) for (meta,) in rows)
        return {meta.key: meta for meta in metas}

    def documents_by_key(self, keys: Iterable[str]) -> dict[str, DocumentMeta]:
        wanted = sorted(set(keys))
        out = {}
        for part in _parts(wanted):
            marks = ",".join("?" * len(part))
            for (meta,) in self._query(f"SELECT meta FROM documents WHERE key IN ({marks})", part):
                record = DocumentMeta(**json.loads(meta))
                out[record.key] = record
        return out

    def document_shas(self) -> dict[str, str]:
        return dict(self._query("SELECT key, sha256 FROM documents"))

    def files(self) -> dict[str, dict[str, Any]]:
        rows = self._query("SELECT relpath, size, mtime_ns, sha256, documents FROM files")
        return {r[0]: {"size": r[1], "mtime_ns": r[2], "sha256": r[3], "documents": r[4]} for r in rows}

    def _passage(self, row: int) -> Passage:
        rows = self._query(f"SELECT {_PASSAGE_COLUMNS} FROM passages WHERE row = ?", (int(row),))
        if not rows:
            raise KeyError(row)
        return _to_passage(rows[0])

    def passages(self, rows: Iterable[int]) -> dict[int, Passage]:
        wanted = sorted({int(r) for r in rows})
        out: dict[int, Passage] = {}
        for part in _parts(wanted):
            marks = ",".join("?" * len(part))
            for record in self._query(f"SELECT {_PASSAGE_COLUMNS} FROM passages WHERE row IN ({marks})", part):
                out[record[0]] = _to_passage(record)
        return out

    def vectors(self, rows: Iterable[int]) -> dict[int, np.ndarray]:
        wanted = sorted({int(r) for r in rows})
        out: dict[int, np.ndarray] = {}
        for part in _parts(wanted):
            marks = ",".join("?" * len(part))
            for row, blob in self._query(f"SELECT row, vector FROM passages WHERE row IN ({marks})", part):
                out[row] = np.frombuffer(blob, dtype=np.float32)
        return out

    def sentences(self, rows: Iterable[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """row -> (spans (k, 2), float16 vectors (k, dim)) of each passage's sentences."""
        wanted = sorted({int(r) for r in rows})
        out = {}
        for part in _parts(wanted):
            marks = ",".join("?" * len(part))
            sql = f"SELECT row, spans, sentence_vectors FROM passages WHERE row IN ({marks})"
            for row, spans, vectors in self._query(sql, part):
                out[row] = (
                    np.frombuffer(spans, dtype=np.int64).reshape(-1, 2),
                    np.frombuffer(vectors, dtype=np.float16).reshape(-1, self.dim),
                )
        return out

    def sentences_of(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        return self.sentences([row]).get(int(row), (np.zeros((0, 2), np.int64), np.zeros((0, self.dim), np.float16)))

    def rows_of_documents(self, keys: Iterable[str]) -> np.ndarray:
        wanted = sorted(set(keys))
        rows: list[int] = []
        for part in _parts(wanted):
            marks = ",".join("?" * len(part))
            rows.extend(r for (r,) in self._query(f"SELECT row FROM passages WHERE doc IN ({marks})", part))
        return np.array(sorted(rows), dtype=np.int64)

    def document_passages(self, key: str) -> list[tuple[int, Passage]]:
        """(row, passage) of one document's passages, in text order (the passages_doc index)."""
        sql = f"SELECT {_PASSAGE_COLUMNS} FROM passages WHERE doc = ? ORDER BY start"
        return [(record[0], _to_passage(record)) for record in self._query(sql, (key,))]

    def passage_with_id(self, passage_id: str) -> tuple[int, Passage] | None:
        """The passage whose id is `passage_id` (a scan of the passages table: ids are not indexed)."""
        records = self._query(f"SELECT {_PASSAGE_COLUMNS} FROM passages WHERE uid = ? LIMIT 1", (passage_id,))
        return (records[0][0], _to_passage(records[0])) if records else None

    def passage_counts(self) -> dict[str, int]:
        """Document key -> how many passages it has."""
        return dict(self._query("SELECT doc, count(*) FROM passages GROUP BY doc"))

    def stored_document(self, key: str) -> list[StoredPassage]:
        """A document's passages with their vectors and sentences, in text order."""
        sql = f"SELECT {_PASSAGE_COLUMNS}, vector, spans, sentence_vectors FROM passages WHERE doc = ? ORDER BY start"
        return [
            StoredPassage(
                _to_passage(r[:8]),
                np.frombuffer(r[8], dtype=np.float32),
                np.frombuffer(r[9], dtype=np.int64).reshape(-1, 2),
                np.frombuffer(r[10], dtype=np.float16).reshape(-1, self.dim),
            )
            for r in self._query(sql, (key,))
        ]

    def iter_in_order(self) -> Iterator[tuple[int, Passage]]:
        """Every passage, documents in corpus order and passages in text order."""
        sql = (
            f"SELECT {', '.join('p.' + c.strip() for c in _PASSAGE_COLUMNS.split(','))} FROM passages p "
            "JOIN documents d ON d.key = p.doc ORDER BY d.position, p.start"
        )
        with self._lock:
            records = self._db.execute(sql).fetchall()
        for record in records:
            yield record[0], _to_passage(record)

    def iter_rows(self, column: str, batch: int = 8192) -> Iterator[tuple[np.ndarray, list[Any]]]:
        """(rows, values of `column`) in ascending row order, `batch` at a time (text or vector)."""
        assert column in ("text", "vector")
        last = -1
        while True:
            sql = f"SELECT row, {column} FROM passages WHERE row > ? ORDER BY row LIMIT ?"
            records = self._query(sql, (last, batch))
            if not records:
                return
            yield np.array([r[0] for r in records], dtype=np.int64), [r[1] for r in records]
            last = records[-1][0]

    # -- writes (a build's own database) -----------------------------------------------------------

    def set_state(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", (key, value))

    def next_row(self) -> int:
        return int(self.state("next_row") or 0)

    def add_document(
        self,
        meta: DocumentMeta,
        position: int,
        passages: list[StoredPassage],
        version: str | None = None,
        rows: list[int] | None = None,
    ) -> tuple[list[int], list[int]]:
        """Store a document and its passages in one transaction (a checkpoint), replacing an older version.

        The passages take `rows` when given and none of them holds another passage (a restore keeps the rows
        its Milvus mirror has), else the next free rows. Returns their rows and those of the version replaced.
        """
        first = self.next_row()
        with self._lock, self._transaction():  # one transaction: the document is all there or not at all
            gone = self._delete(meta.key)
            if rows is None or len(rows) != len(passages) or len(set(rows)) != len(rows) or self._taken(rows):
                rows = list(range(first, first + len(passages)))
            self._db.execute(
                "INSERT INTO documents (key, position, sha256, meta) VALUES (?, ?, ?, ?)",
                (meta.key, position, version or meta.sha256, json.dumps(asdict(meta), ensure_ascii=False)),
            )
            self._db.executemany(
                "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        row,
                        s.passage.id,
                        s.passage.doc_key,
                        s.passage.start,
                        s.passage.end,
                        s.passage.line_start,
                        s.passage.line_end,
                        s.passage.text,
                        np.ascontiguousarray(s.vector, dtype=np.float32).tobytes(),
                        np.ascontiguousarray(s.spans, dtype=np.int64).tobytes(),
                        np.ascontiguousarray(s.sentence_vectors, dtype=np.float16).tobytes(),
                    )
                    for row, s in zip(rows, passages, strict=True)
                ],
            )
            following = max([first, *(row + 1 for row in rows)])
            self._db.execute("INSERT OR REPLACE INTO state (key, value) VALUES ('next_row', ?)", (str(following),))
        return rows, gone

    def _taken(self, rows: list[int]) -> bool:
        """Whether any of `rows` holds a passage."""
        marks = ",".join("?" * len(rows))
        found = self._db.execute(f"SELECT 1 FROM passages WHERE row IN ({marks}) LIMIT 1", rows).fetchone()
        return found is not None

    def set_positions(self, positions: dict[str, int]) -> None:
        """Record each document's place in the corpus (the order passages are listed in)."""
        with self._lock, self._transaction():
            self._db.executemany(
                "UPDATE documents SET position = ? WHERE key = ?", [(p, k) for k, p in positions.items()]
            )

    def all_rows(self) -> np.ndarray:
        return np.array([r for (r,) in self._query("SELECT row FROM passages ORDER BY row")], dtype=np.int64)

    def remove_documents(self, keys: Iterable[str]) -> list[int]:
        """Delete documents and their passages; returns the rows that went."""
        removed: list[int] = []
        with self._lock, self._transaction():
            for key in keys:
                removed.extend(self._delete(key))
        return removed

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN ... COMMIT, rolled back on any error (when SQLite has not already); a full disk is said so."""
        try:
            self._db.execute("BEGIN")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # a failed COMMIT on a full disk has rolled back already
                    self._db.execute("ROLLBACK")
                raise
        except (sqlite3.OperationalError, OSError) as exc:
            if is_disk_full(exc):
                raise IndexLocationError(no_space_message(self.path.parent)) from exc
            raise

    def _delete(self, key: str) -> list[int]:
        rows = [r for (r,) in self._db.execute("SELECT row FROM passages WHERE doc = ?", (key,))]
        self._db.execute("DELETE FROM passages WHERE doc = ?", (key,))
        self._db.execute("DELETE FROM documents WHERE key = ?", (key,))
        return rows

    def set_files(self, records: dict[str, dict[str, Any]]) -> None:
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM files")
            self._db.executemany(
                "INSERT INTO files VALUES (?, ?, ?, ?, ?)",
                [(k, v["size"], v["mtime_ns"], v["sha256"], v["documents"]) for k, v in records.items()],
            )


def _to_passage(record: tuple[Any, ...]) -> Passage:
    return Passage(record[1], record[2], record[3], record[4], record[5], record[6], record[7])


def _parts(values: list[_T], size: int = 900) -> Iterator[list[_T]]:
    """SQLite limits the number of ? in one statement."""
    for begin in range(0, len(values), size):
        yield values[begin : begin + size]
