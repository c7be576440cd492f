"""Ingest: find the corpus files under --docs and decode them into Documents (offsets = decoded text).

File names are stored as `escape_path` writes them (valid UTF-8 names unchanged); `unescape_path` turns a
stored name back into the name on disk. The text of a file is `decode(its bytes)`, whatever its encoding.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from qa.errors import BadInputError, DocsNotFoundError, NoReadableFilesError
from qa.ingest.html import HTML_SUFFIXES, html_text
from qa.records import Corpus, CorpusFile, Document, IngestWarning
from qa.text.dates import normalise_date
from qa.text.encoding import is_encodable

TEXT_SUFFIXES = (".txt", ".md")
CORPUS_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES
# One article is a few KB to a few hundred KB; past this a file (or a .jsonl record's text) is skipped
# with a warning, so one dump of a whole site cannot hold a build for minutes or fill the memory.
MAX_ARTICLE_BYTES = 5_000_000
_BINARY_SNIFF = 8192
# a byte-order mark says the encoding (UTF-32's marks first: UTF-32-LE's starts with UTF-16-LE's)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ESCAPED_BYTE = re.compile(r"\\x([0-9a-f]{2})")


def scan(docs: Path, *, exclude: Path | None = None) -> Corpus:
    """List the corpus files under `docs` (a folder, searched recursively, or one .jsonl file)."""
    if not docs.exists():
        raise DocsNotFoundError(str(docs))
    root = docs.resolve()
    if not is_encodable(str(root)):  # the index records where its corpus is, as text
        raise BadInputError(f"cannot index {escape_path(str(root))}: its path is not valid UTF-8; rename it")
    if not root.is_dir():
        try:
            only = _stat(root, "")
        except OSError as exc:
            raise BadInputError(f"cannot read {docs}: {exc.strerror or exc}") from None
        return Corpus("jsonl" if root.suffix.lower() == ".jsonl" else "file", root, (only,))
    excluded = exclude.resolve() if exclude is not None else None
    files, skipped = [], []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        # hidden folders (.git, .cache) and the index itself are never part of the corpus
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and (excluded is None or here / d != excluded)
        )
        for name in sorted(filenames):
            if name.startswith(".") or not name.lower().endswith(CORPUS_SUFFIXES):
                continue
            path = here / name
            relpath = escape_path(path.relative_to(root).as_posix())
            try:
                files.append(_stat(path, relpath))
            except OSError as exc:
                skipped.append(IngestWarning(relpath, f"skipped: {exc.strerror or exc}"))
    if not files and skipped:  # say why each was skipped: "no readable documents" alone does not
        raise NoReadableFilesError(str(docs), [str(warning) for warning in skipped])
    return Corpus("folder", root, tuple(sorted(files, key=lambda f: f.relpath)), tuple(skipped))


def escape_path(path: str) -> str:
    """A file's path as text any store (SQLite, JSON) and terminal takes; `unescape_path` reverses it.

    os.walk gives the bytes of a name that is not UTF-8 (a Latin-1 "caf\\xe9.txt") as lone surrogates,
    which cannot be encoded. Such a name has each of those bytes written "\\xe9" and each backslash
    "\\x5c"; a UTF-8 name without "\\x" in it is kept as it is. The two kinds cannot collide: only an
    escaped path holds "\\x".
    """
    if is_encodable(path) and "\\x" not in path:
        return path
    raw = os.fsencode(path).replace(b"\\", b"\\x5c")
    return raw.decode("utf-8", "backslashreplace")


def unescape_path(stored: str) -> str:
    """The path on disk that `escape_path` turned into `stored` (open it with Path(root) / result)."""
    if "\\x" not in stored:
        return stored
    pieces = _ESCAPED_BYTE.split(stored)  # text, hex digits, text, hex digits, ..., text
    raw = b"".join(bytes([int(piece, 16)]) if i % 2 else piece.encode() for i, piece in enumerate(pieces))
    return os.fsdecode(raw)


def _stat(path: Path, relpath: str) -> CorpusFile:
    """Stat a corpus entry; anything but a regular file (broken link, FIFO, device) is refused."""
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise OSError(0, "not a regular file")
    return CorpusFile(relpath, path, st.st_size, st.st_mtime_ns)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def decode(data: bytes) -> tuple[str, str]:
    """Decode bytes as the encoding a byte-order mark names (UTF-16, UTF-32), else UTF-8, else cp1252,
    else Latin-1 (which never fails). Returns (text, encoding); a byte-order mark is not part of the text."""
    marked = _bom_encoding(data)
    for encoding in (*((marked,) if marked else ()), "utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text, ("utf-8" if encoding == "utf-8-sig" else encoding)
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def _bom_encoding(data: bytes) -> str | None:
    return next((encoding for bom, encoding in _BOMS if data.startswith(bom)), None)


def looks_binary(data: bytes) -> bool:
    """NUL bytes near the start, and no byte-order mark of an encoding that has them (UTF-16, UTF-32)."""
    return b"\x00" in data[:_BINARY_SNIFF] and _bom_encoding(data) is None


def _looks_utf16(data: bytes) -> bool:
    """Mostly-ASCII text in UTF-16 without a byte-order mark: every other byte is NUL."""
    sniff = data[:_BINARY_SNIFF]
    return len(sniff) >= 4 and any(half.count(0) >= 0.9 * len(half) for half in (sniff[0::2], sniff[1::2]))


class _Skipped(Exception):
    """A file or record that is not indexed; the message says why."""


def read_documents(corpus: Corpus, file: CorpusFile) -> tuple[list[Document], list[IngestWarning]]:
    """Read one corpus file into Documents; problems become warnings, never exceptions."""
    shown = file.relpath or escape_path(file.abspath.name)
    try:
        data = _read_bytes(file, limited=corpus.kind != "jsonl")
        if corpus.kind == "jsonl":
            return _read_jsonl(data, shown)
        if file.abspath.suffix.lower() in HTML_SUFFIXES:
            return _read_html_file(data, shown)
        return _read_text_file(data, shown)
    except _Skipped as skipped:
        return [], [IngestWarning(shown, f"skipped: {skipped}")]


def _read_bytes(file: CorpusFile, *, limited: bool) -> bytes:
    """The file's bytes; an article file past MAX_ARTICLE_BYTES is refused before it is read whole."""
    try:
        with file.abspath.open("rb") as fh:
            data = fh.read(MAX_ARTICLE_BYTES + 1) if limited else fh.read()
            if limited and len(data) > MAX_ARTICLE_BYTES:
                size = max(file.size, os.fstat(fh.fileno()).st_size)
                raise _Skipped(_too_big(size, "the file"))
    except OSError as exc:
        raise _Skipped(f"cannot read ({exc.strerror or exc})") from None
    return data


def _too_big(size: int, what: str) -> str:
    limit = MAX_ARTICLE_BYTES / 1e6
    return f"{what} is {size / 1e6:.1f} MB, over the {limit:g} MB limit for one article (split it to index it)"


def _decoded(data: bytes, shown: str) -> tuple[str, str, list[IngestWarning]]:
    """The text, its encoding, and a warning when it was neither UTF-8 nor marked as UTF-16/32.

    Raises _Skipped for binary data and for a file whose byte-order mark does not fit its bytes.
    """
    if looks_binary(data):
        raise _Skipped(
            "binary file (UTF-16 without a byte-order mark? save it as UTF-8)" if _looks_utf16(data) else "binary file"
        )
    text, encoding = decode(data)
    marked = _bom_encoding(data)
    if marked is not None and encoding != marked:
        raise _Skipped(f"starts with a {marked.upper()} byte-order mark but is not valid {marked.upper()}")
    known = encoding == "utf-8" or encoding == marked
    warnings = [] if known else [IngestWarning(shown, f"not valid UTF-8; read as {encoding}")]
    return text, encoding, warnings


def _read_text_file(data: bytes, name: str) -> tuple[list[Document], list[IngestWarning]]:
    text, encoding, warnings = _decoded(data, name)
    if not text.strip():
        return [], [*warnings, IngestWarning(name, "skipped: empty file")]
    doc = Document(key=name, path=name, source_id=None, text=text, sha256=text_sha256(text), encoding=encoding)
    return [doc], warnings


def _read_html_file(data: bytes, name: str) -> tuple[list[Document], list[IngestWarning]]:
    markup, _, _ = _decoded(data, name)  # a page says its own encoding: no warning for cp1252
    try:
        page = html_text(markup)
    except Exception as exc:  # trafilatura/lxml raise assorted errors on broken markup
        return [], [IngestWarning(name, f"skipped: cannot read HTML ({type(exc).__name__})")]
    if not page.text.strip():
        return [], [IngestWarning(name, "skipped: no text in the page")]
    warnings = []
    if page.whole_page:
        warnings.append(IngestWarning(name, "no article found in the HTML; indexed the page's text"))
    doc = Document(
        key=name,
        path=name,
        source_id=None,
        text=page.text,
        sha256=text_sha256(page.text),
        title=page.title,
        publisher=page.publisher,
        published=page.published,
        url=page.url,
        encoding="html",
        byline=page.byline,
        article_text=True,
    )
    return [doc], warnings


def _read_jsonl(data: bytes, shown: str) -> tuple[list[Document], list[IngestWarning]]:
    text, encoding, warnings = _decoded(data, shown)
    docs: list[Document] = []
    seen: set[str] = set()
    for lineno, line in _numbered_lines(text):
        where = f"{shown}:{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            warnings.append(IngestWarning(where, f"skipped: not JSON ({exc.msg})"))
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            warnings.append(IngestWarning(where, 'skipped: a record needs a "text" string'))
            continue
        if not record["text"].strip():
            warnings.append(IngestWarning(where, "skipped: empty text"))
            continue
        if not is_encodable(record["text"]):
            warnings.append(IngestWarning(where, "skipped: text holds invalid Unicode (a lone surrogate)"))
            continue
        if len(record["text"]) > MAX_ARTICLE_BYTES:
            warnings.append(IngestWarning(where, f"skipped: {_too_big(len(record['text']), 'its text')}"))
            continue
        record_id = _optional_str(record.get("id")) or str(lineno)
        if record_id in seen:
            warnings.append(IngestWarning(where, f"skipped: duplicate id {record_id!r}"))
            continue
        seen.add(record_id)
        published = _optional_str(record.get("published"))
        docs.append(
            Document(
                key=record_id,
                path="",
                source_id=record_id,
                text=record["text"],
                sha256=text_sha256(record["text"]),
                title=_optional_str(record.get("title")),
                publisher=_optional_str(record.get("publisher") or record.get("source")),
                published=normalise_date(published) if published else None,
                url=_optional_str(record.get("url")),
                encoding=encoding,
                byline=_optional_str(record.get("byline") or record.get("author")),
            )
        )
    return docs, warnings


def _numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    # split on "\n" only: str.splitlines() would also cut at U+2028 inside a JSON string
    for lineno, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            yield lineno, line


def _optional_str(value: object) -> str | None:
    """A string field as text; numbers are accepted, anything else (lists, objects, booleans) is ignored."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    return text if text and is_encodable(text) else None
