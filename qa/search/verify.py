"""Verbatim at answer time: a passage is shown only if it is, now, the exact slice of its source file.

The index stores each passage's text; a damaged store, a damaged document list, or a source file edited
since the build would otherwise put words in an article's mouth. Before passages leave the library, each
one's document is read again (once per file version: size and mtime) and the stored text is compared with
the slice `text[start:end]` of the document as the corpus reader decodes it now.

A mismatch is one of three things, told apart by the file's SHA-256 against the one recorded at build:
- CHANGED: the file differs from the indexed one (edited or replaced since): `ask.py index update` fixes it.
- GONE: the file can no longer be read, or no longer holds the document.
- DAMAGED: the file is the indexed one, yet the stored passage is not its slice: the index is damaged.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from qa.ingest.corpus import file_sha256, read_documents, text_sha256, unescape_path
from qa.records import Corpus, CorpusFile, DocumentMeta, Passage
from qa.storage.generations import StoredIndex

__all__ = ["CHANGED", "DAMAGED", "GONE", "Mismatch", "SourceCheck"]

CHANGED, GONE, DAMAGED = "changed", "gone", "damaged"
CACHED_FILES = 64  # decoded files kept (by version): a question's passages come from a few documents
# A file larger than this (a big .jsonl corpus) is not decoded to check a passage, only hashed: when it is
# the indexed file, its passages are trusted as the index's load checks found them (its checksums); when it
# changed, none of its passages is shown until `ask.py index update`.
DECODED_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True)
class Mismatch:
    """Why a passage was not shown."""

    passage_id: str
    doc_key: str
    relpath: str  # the document's file under the corpus root ("" for a one-file .jsonl corpus)
    kind: str  # CHANGED, GONE or DAMAGED


@dataclass(frozen=True)
class _Read:
    """One version of a source file as the corpus reader decodes it: document key -> text, and its hash."""

    version: tuple[int, int]  # size, mtime_ns
    sha256: str
    texts: dict[str, str] | None  # None for a file past DECODED_LIMIT: only its hash is kept


class SourceCheck:
    """Compares stored passages with their source files, reading each file version once. Thread-safe."""

    def __init__(self, index: StoredIndex) -> None:
        corpus = index.manifest.corpus
        self._kind = corpus.kind
        self._root = Path(corpus.root)
        self._indexed = {relpath: entry.get("sha256") for relpath, entry in index.files().items()}
        self._documents = index.documents
        self._reads: OrderedDict[str, _Read] = OrderedDict()
        self._lock = threading.Lock()

    def mismatch(self, passage: Passage) -> Mismatch | None:
        """None when `passage` is the exact slice of its document's file as it is now."""
        meta = self._documents.get(passage.doc_key)
        if meta is None:  # a passage whose document the list does not hold
            return Mismatch(passage.id, passage.doc_key, "", DAMAGED)
        read, text = self._now(meta)
        if self._trusted(meta, read) or (text is not None and text[passage.start : passage.end] == passage.text):
            return None
        return Mismatch(passage.id, meta.key, meta.path, self._cause(meta, read))

    def document_changed(self, doc_key: str) -> Mismatch | None:
        """None when the document's file still holds the indexed version of the document."""
        meta = self._documents.get(doc_key)
        if meta is None:
            return Mismatch("", doc_key, "", DAMAGED)
        read, text = self._now(meta)
        if self._trusted(meta, read) or (text is not None and text_sha256(text) == meta.sha256):
            return None
        return Mismatch("", doc_key, meta.path, self._cause(meta, read))

    def _file_of(self, meta: DocumentMeta) -> str:
        """The corpus file holding a document: its path under the root, or "" when the corpus is one file
        (a .jsonl, or a single article whose document is named after it)."""
        return "" if self._kind in ("file", "jsonl") else meta.path

    def _now(self, meta: DocumentMeta) -> tuple[_Read | None, str | None]:
        """The document's file as it is now, and the document's text in it (None: unreadable, not decoded,
        or not there)."""
        read = self._read(self._file_of(meta))
        texts = read.texts if read is not None else None
        return read, texts.get(meta.key) if texts is not None else None

    def _trusted(self, meta: DocumentMeta, read: _Read | None) -> bool:
        """A file too large to keep decoded, unchanged: its passages are as the index's load checks found them."""
        return read is not None and read.texts is None and read.sha256 == self._indexed.get(self._file_of(meta))

    def _cause(self, meta: DocumentMeta, read: _Read | None) -> str:
        if read is None:
            return GONE
        if read.sha256 != self._indexed.get(self._file_of(meta)):
            return CHANGED
        return DAMAGED  # the very file the index was built from, and the stored text is not its slice

    def _read(self, relpath: str) -> _Read | None:
        """The file's documents now (None when it cannot be read), from the cache while size and mtime hold."""
        path = self._root / unescape_path(relpath) if relpath else self._root  # a name stored escaped
        try:
            st = path.stat()
        except OSError:
            return None
        version = (st.st_size, st.st_mtime_ns)
        with self._lock:
            cached = self._reads.get(relpath)
            if cached is not None and cached.version == version:
                self._reads.move_to_end(relpath)
                return cached
        read = _decode(self._kind, self._root, relpath, path, version)
        if read is not None:
            with self._lock:
                self._reads[relpath] = read
                while len(self._reads) > CACHED_FILES:
                    self._reads.popitem(last=False)
        return read


def _decode(kind: str, root: Path, relpath: str, path: Path, version: tuple[int, int]) -> _Read | None:
    file = CorpusFile(relpath, path, version[0], version[1])
    try:
        sha = file_sha256(path)
        if version[0] > DECODED_LIMIT:
            return _Read(version, sha, None)
        docs, _ = read_documents(Corpus(kind, root, (file,)), file)
    except Exception:  # noqa: BLE001 - a file that cannot be read now cannot vouch for any passage
        return None
    return _Read(version, sha, {doc.key: doc.text for doc in docs})
