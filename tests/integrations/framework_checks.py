"""What the agent-tool and framework tests check: a passage is the library's, the exact slice of its file.

A plain module, not a conftest.py: a second conftest would shadow tests/conftest.py for `from conftest import`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qa.ingest.corpus import decode

QUESTION = "When did the withdrawal finish?"
# what every framework document carries about its passage (url and citation too when the hit has them)
METADATA_KEYS = {"id", "path", "source_id", "start", "end", "line_start", "line_end"} | {
    "title",
    "publisher",
    "published",
    "byline",
    "score",
    "highlight",
}


def source_slice(path: str, start: int, end: int) -> str:
    """The file's text as the corpus decodes it, at those raw offsets."""
    text, _ = decode(Path(path).read_bytes())
    return text[start:end]


def expected_passages(docs: Path, index: Path, **search: Any) -> list[dict]:
    """The question's passages as `Retriever.search(...).to_dict()` gives them over that corpus and index (with
    the hashing embedder, as the framework retrievers under test are opened)."""
    from qa import Retriever

    retriever = Retriever.open(docs=docs, index=index, model="hash")
    return retriever.search(QUESTION, **search).to_dict()["passages"]


def check_metadata(metadata: dict, passage: dict, text: str) -> None:
    """A framework document's text and metadata say what the library's JSON says about the same passage."""
    assert METADATA_KEYS <= set(metadata)
    assert text == source_slice(metadata["path"], metadata["start"], metadata["end"]) == passage["text"]
    source = passage["source"]
    assert metadata["id"] == passage["id"] and metadata["path"] == source["path"]
    assert (metadata["start"], metadata["end"]) == (passage["start"], passage["end"])
    assert (metadata["line_start"], metadata["line_end"]) == (passage["line_start"], passage["line_end"])
    for key in ("title", "publisher", "published", "byline"):
        assert metadata[key] == source[key]
    assert metadata["source_id"] == source["id"] and metadata["score"] == passage["score"]
    assert metadata["highlight"] == passage["highlight"]
    if passage["highlight"] is not None:
        assert metadata["start"] <= metadata["highlight"]["start"] < metadata["highlight"]["end"] <= metadata["end"]
    assert metadata.get("citation") == passage.get("citation")
    assert metadata.get("url") == (source.get("url") or None)
