"""Ingest: find the corpus files under --docs and decode them into Documents (offsets = decoded text)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from qa.errors import BadInputError, DocsNotFoundError
from qa.ingest.html import HTML_SUFFIXES, html_text
from qa.records import Corpus, CorpusFile, Document, IngestWarning
from qa.text.dates import normalise_date
from qa.text.encoding import is_encodable

TEXT_SUFFIXES = (".txt", ".md")
CORPUS_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES
_BINARY_SNIFF = 8192


def scan(docs: Path, *, exclude: Path | None = None) -> Corpus:
    """List the corpus files under `docs` (a folder, searched recursively, or one .jsonl file)."""
    if not docs.exists():
        raise DocsNotFoundError(str(docs))
    root = docs.resolve()
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
            relpath = path.relative_to(root).as_posix()
            try:
                files.append(_stat(path, relpath))
            except OSError as exc:
                skipped.append(IngestWarning(relpath, f"skipped: {exc.strerror or exc}"))
    return Corpus("folder", root, tuple(sorted(files, key=lambda f: f.relpath)), tuple(skipped))


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
    """Decode bytes as UTF-8, else cp1252, else Latin-1 (which never fails). Returns (text, encoding)."""
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text, ("utf-8" if encoding == "utf-8-sig" else encoding)
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:_BINARY_SNIFF]


def read_documents(corpus: Corpus, file: CorpusFile) -> tuple[list[Document], list[IngestWarning]]:
    """Read one corpus file into Documents; problems become warnings, never exceptions."""
    shown = file.relpath or file.abspath.name
    try:
        data = file.abspath.read_bytes()
    except OSError as exc:
        return [], [IngestWarning(shown, f"skipped: cannot read ({exc.strerror or exc})")]
    if corpus.kind == "jsonl":
        return _read_jsonl(data, shown)
    key = file.relpath or file.abspath.name
    if file.abspath.suffix.lower() in HTML_SUFFIXES:
        return _read_html_file(data, key, shown)
    return _read_text_file(data, key, shown)


def _decoded(data: bytes, shown: str) -> tuple[str, str, list[IngestWarning]]:
    """The text, its encoding, and a warning when it was not UTF-8."""
    text, encoding = decode(data)
    warnings = [IngestWarning(shown, f"not valid UTF-8; read as {encoding}")] if encoding != "utf-8" else []
    return text, encoding, warnings


def _read_text_file(data: bytes, key: str, shown: str) -> tuple[list[Document], list[IngestWarning]]:
    if looks_binary(data):
        return [], [IngestWarning(shown, "skipped: binary file")]
    text, encoding, warnings = _decoded(data, shown)
    if not text.strip():
        return [], [*warnings, IngestWarning(shown, "skipped: empty file")]
    doc = Document(key=key, path=key, source_id=None, text=text, sha256=text_sha256(text), encoding=encoding)
    return [doc], warnings


def _read_html_file(data: bytes, key: str, shown: str) -> tuple[list[Document], list[IngestWarning]]:
    if looks_binary(data):
        return [], [IngestWarning(shown, "skipped: binary file")]
    markup, _ = decode(data)
    try:
        page = html_text(markup)
    except Exception as exc:  # trafilatura/lxml raise assorted errors on broken markup
        return [], [IngestWarning(shown, f"skipped: cannot read HTML ({type(exc).__name__})")]
    if not page.text.strip():
        return [], [IngestWarning(shown, "skipped: no text in the page")]
    warnings = []
    if page.whole_page:
        warnings.append(IngestWarning(shown, "no article found in the HTML; indexed the page's text"))
    doc = Document(
        key=key,
        path=key,
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
    if looks_binary(data):
        return [], [IngestWarning(shown, "skipped: binary file")]
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
