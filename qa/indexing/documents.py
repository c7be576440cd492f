"""A document on its way into the index: its version, its stored metadata, its passages, how it is named."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from qa.chunk import chunk, make_passage
from qa.records import ChunkSettings, Corpus, Document, DocumentMeta, IngestWarning, Passage, Reporter


def document_version(doc: Document) -> str:
    """What makes a stored document current: its text and the metadata it brings (a .jsonl record's or
    an HTML page's title, date, byline...), so an edit of either is picked up. Taken before extraction."""
    fields = [doc.sha256, doc.path, doc.source_id, doc.title, doc.publisher, doc.published, doc.url, doc.byline]
    return hashlib.sha256(json.dumps([*fields, doc.encoding], ensure_ascii=False).encode()).hexdigest()


def document_meta(doc: Document) -> DocumentMeta:
    """What the index keeps about a document (everything but its text)."""
    return DocumentMeta(
        key=doc.key,
        path=doc.path,
        source_id=doc.source_id,
        sha256=doc.sha256,
        title=doc.title,
        publisher=doc.publisher,
        published=doc.published,
        url=doc.url,
        encoding=doc.encoding,
        byline=doc.byline,
    )


def article_passages(
    doc: Document, settings: ChunkSettings, reporter: Reporter, shown: str
) -> tuple[Document, list[Passage]]:
    """The document with the metadata extraction found, and the passages of its article text.

    A document where no article is found is indexed whole, with a warning naming it as `shown`.
    """
    from qa.extract.article import extract_document, with_metadata  # build only: a question never extracts

    extraction = extract_document(doc)
    doc = with_metadata(doc, extraction)
    body = list(extraction.body)
    if not body:
        reporter.warning(f"{shown}: no article text found; indexed as it is")
        body = [(0, len(doc.text))]
    return doc, [make_passage(doc, start, end) for start, end in chunk(doc.text, settings, body)]


def shown_document(doc: Document, shown_docs: str, corpus: Corpus) -> str:
    """How messages name a document: its file under the corpus as the user gave it, or the record."""
    if corpus.kind == "folder":
        return str(Path(shown_docs) / doc.path)
    return f"{shown_docs}#{doc.source_id}" if doc.source_id else shown_docs


def shown_warning(warning: IngestWarning, shown_docs: str, corpus: Corpus) -> str:
    """An ingest warning with its file named as the user gave the corpus."""
    if corpus.kind == "folder":
        return f"{Path(shown_docs) / warning.path}: {warning.message}"
    return f"{shown_docs}{warning.path[len(corpus.root.name) :]}: {warning.message}"
