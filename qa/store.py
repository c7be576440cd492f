"""The on-disk index: a manifest, FAISS vectors and row-aligned passage records, written atomically.

Layout of an index folder::

    CURRENT                  name of the live generation, replaced atomically after a build
    gen-<time>-<rand>/       one complete, immutable build
        manifest.json        format, model, chunking, corpus file stats and hashes, sizes, versions
        vectors.faiss        inner-product FAISS index over L2-normalised vectors; row i = passage i
        passages.jsonl       line i: {"id", "doc", "start", "end", "line_start", "line_end", "text"}
        documents.jsonl      one line per document: key, path, source id, metadata, text hash
        bm25/                bm25s index over the same passages (row i = passage i)
        sentences.npy        int64 (n, 3): passage row, start, end of each sentence of a few words, in order
        sentence_vectors.npy float16 (n, dim): their L2-normalised vectors (wire-copy detection)
    .lock                    held while a build runs
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from filelock import FileLock, Timeout

from .errors import IndexBusyError, IndexDamagedError, IndexLocationError
from .lexical import LexicalIndex
from .records import Passage

FORMAT = "newsqa-index"
FORMAT_VERSION = 3
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
PASSAGES = "passages.jsonl"
DOCUMENTS = "documents.jsonl"
LEXICAL = "bm25"
SENTENCES = "sentences.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
_GENERATION = re.compile(r"^gen-[0-9T]+-[0-9a-f]{8}$")


@dataclass(frozen=True)
class DocumentMeta:
    """What the index keeps about a document: where it is and what it says about itself (no text)."""

    key: str
    path: str
    source_id: str | None
    sha256: str
    title: str | None = None
    publisher: str | None = None
    published: str | None = None
    url: str | None = None
    encoding: str = "utf-8"
    byline: str | None = None


@dataclass
class StoredIndex:
    """A loaded generation: everything needed to answer, held in memory."""

    path: Path
    manifest: dict[str, Any]
    documents: dict[str, DocumentMeta]
    passages: list[Passage]
    vectors: faiss.Index
    lexical: LexicalIndex
    sentences: np.ndarray  # int64 (n, 3): passage row, start, end; sorted by passage row
    sentence_vectors: np.ndarray  # float16 (n, dim), memory-mapped

    def sentences_of(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Spans (k, 2) and vectors (k, dim) of passage `row`'s sentences."""
        lo, hi = np.searchsorted(self.sentences[:, 0], [row, row + 1])
        return self.sentences[lo:hi, 1:], self.sentence_vectors[lo:hi]

    def vector_rows(self) -> np.ndarray:
        """All stored vectors, row i for passage i (used to reuse unchanged documents' embeddings)."""
        if self.vectors.ntotal == 0:
            return np.zeros((0, self.vectors.d), dtype=np.float32)
        return self.vectors.reconstruct_n(0, self.vectors.ntotal)


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
        actual = (gen / filename).stat().st_size if (gen / filename).is_file() else None
        if actual != size:
            raise IndexDamagedError(f"{filename} is {'missing' if actual is None else 'truncated or altered'}")
    try:
        vectors = faiss.read_index(str(gen / VECTORS))
        passages = [_passage(json.loads(line)) for line in _lines(gen / PASSAGES)]
        documents = {}
        for line in _lines(gen / DOCUMENTS):
            meta = DocumentMeta(**json.loads(line))
            documents[meta.key] = meta
        lexical = LexicalIndex.load(gen / LEXICAL, len(passages))
        sentences = np.load(gen / SENTENCES, allow_pickle=False)
        sentence_vectors = np.load(gen / SENTENCE_VECTORS, mmap_mode="r", allow_pickle=False)
    except (RuntimeError, OSError, ValueError, TypeError, KeyError) as exc:
        raise IndexDamagedError(f"cannot read the index files ({str(exc).splitlines()[0][:120]})") from exc
    counts = manifest.get("counts", {})
    if not (vectors.ntotal == len(passages) == counts.get("passages")) or len(documents) != counts.get("documents"):
        raise IndexDamagedError("vectors, passages and manifest disagree on counts")
    if vectors.d != manifest.get("model", {}).get("dim"):
        raise IndexDamagedError("vector dimension differs from the manifest")
    if any(p.doc_key not in documents for p in passages):
        raise IndexDamagedError("a passage names a document the index does not hold")
    if (
        sentences.ndim != 2
        or sentences.shape[1:] != (3,)
        or sentence_vectors.shape != (len(sentences), vectors.d)
        or len(sentences) != counts.get("sentences")
        or (len(sentences) and not (0 <= sentences[:, 0].min() and sentences[:, 0].max() < len(passages)))
        or np.any(np.diff(sentences[:, 0]) < 0)
    ):
        raise IndexDamagedError("the sentence table disagrees with the passages")
    return StoredIndex(gen, manifest, documents, passages, vectors, lexical, sentences, sentence_vectors)


def write_index(
    index_dir: Path,
    manifest: dict[str, Any],
    documents: list[DocumentMeta],
    passages: list[Passage],
    vectors: np.ndarray,
    lexical: LexicalIndex,
    sentences: np.ndarray,
    sentence_vectors: np.ndarray,
) -> Path:
    """Write a new generation aside, then switch CURRENT to it in one atomic rename.

    A crash or Ctrl-C at any point leaves the previous generation live and intact.
    """
    tmp = index_dir / f".tmp-{uuid.uuid4().hex[:8]}"
    with _index_location(index_dir):
        tmp.mkdir()
    try:
        index = faiss.IndexFlatIP(int(manifest["model"]["dim"]))
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        faiss.write_index(index, str(tmp / VECTORS))
        _write_jsonl(tmp / PASSAGES, (_passage_record(p) for p in passages))
        _write_jsonl(tmp / DOCUMENTS, (asdict(d) for d in documents))
        lexical.save(tmp / LEXICAL)
        np.save(tmp / SENTENCES, np.asarray(sentences, dtype=np.int64).reshape(-1, 3), allow_pickle=False)
        np.save(tmp / SENTENCE_VECTORS, np.asarray(sentence_vectors, dtype=np.float16), allow_pickle=False)
        manifest = {
            **manifest,
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "counts": {"documents": len(documents), "passages": len(passages), "sentences": len(sentences)},
            "files": {
                path.relative_to(tmp).as_posix(): path.stat().st_size
                for path in sorted(tmp.rglob("*"))
                if path.is_file()
            },
        }
        _write_text(tmp / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        for path in tmp.rglob("*"):
            if path.is_file():
                _fsync(path)
        gen = index_dir / f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        os.rename(tmp, gen)
        if (index_dir / CURRENT).is_dir():  # a damaged pointer: ours to replace
            shutil.rmtree(index_dir / CURRENT)
        _write_text(index_dir / f"{CURRENT}.tmp", gen.name + "\n")
        _fsync(index_dir / f"{CURRENT}.tmp")
        os.replace(index_dir / f"{CURRENT}.tmp", index_dir / CURRENT)
        _fsync_dir(index_dir)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise IndexLocationError(f"cannot write the index in {index_dir}: {exc.strerror or exc}") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    remove_stale(index_dir, keep=gen.name)
    return gen


def remove_stale(index_dir: Path, keep: str | None) -> None:
    """Delete old generations and abandoned temporary folders (only our own names, under the lock)."""
    for entry in index_dir.iterdir():
        ours = _GENERATION.match(entry.name) or entry.name.startswith(".tmp-")
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
    shape = {"model": dict, "chunking": dict, "corpus": dict, "documents": dict, "counts": dict, "files": dict}
    wrong = [key for key, kind in shape.items() if not isinstance(manifest.get(key), kind)]
    corpus_files = manifest.get("corpus", {}).get("files") if not wrong else None
    if wrong or not isinstance(corpus_files, dict) or not all(isinstance(v, dict) for v in corpus_files.values()):
        raise IndexDamagedError(f"manifest.json has an unexpected structure ({', '.join(wrong) or 'corpus.files'})")
    return manifest


def _passage_record(p: Passage) -> dict[str, Any]:
    return {
        "id": p.id,
        "doc": p.doc_key,
        "start": p.start,
        "end": p.end,
        "line_start": p.line_start,
        "line_end": p.line_end,
        "text": p.text,
    }


def _passage(record: dict[str, Any]) -> Passage:
    return Passage(
        record["id"],
        record["doc"],
        record["start"],
        record["end"],
        record["line_start"],
        record["line_end"],
        record["text"],
    )


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield line


def _write_jsonl(path: Path, records) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


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
