"""What an index must catch up with: the corpus it covers, the files that changed, an incompatible build."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import qa.storage.generations as generations
from qa.embed.texts import ENCODED, sentence_method
from qa.errors import IndexDamagedError
from qa.extract.version import EXTRACTOR_ID
from qa.ingest.corpus import file_sha256, scan
from qa.records import Changes, ChunkSettings, Corpus, Embedder
from qa.storage.generations import StoredIndex
from qa.storage.manifest import FORMAT_VERSION, Manifest

EXCLUDED = "excluded.json"  # corpus files removed from this index (ask.py index remove), kept on disk


def scan_corpus(docs: Path, index_dir: Path) -> Corpus:
    """The corpus files under `docs`, less those removed from this index with `ask.py index remove`."""
    corpus = scan(docs, exclude=index_dir)
    excluded = read_excluded(index_dir)
    if not excluded or corpus.kind != "folder":
        return corpus
    return replace(corpus, files=tuple(f for f in corpus.files if f.relpath not in excluded))


def read_excluded(index_dir: Path) -> set[str]:
    """The corpus files this index leaves out (relative paths)."""
    try:
        data = json.loads((index_dir / EXCLUDED).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        return set()
    except (OSError, ValueError) as exc:
        raise IndexDamagedError(f"{EXCLUDED} is unreadable ({exc})") from exc
    return {p for p in data if isinstance(p, str)} if isinstance(data, list) else set()


def write_excluded(index_dir: Path, paths: set[str]) -> None:
    """Atomically record the corpus files this index leaves out."""
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = index_dir / f"{EXCLUDED}.tmp"
    tmp.write_text(json.dumps(sorted(paths), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, index_dir / EXCLUDED)


def build_key(embedder: Embedder, settings: ChunkSettings) -> str:
    """What stored vectors and passages depend on: two builds with the same key can share them."""
    parts = [embedder.name, embedder.dim, settings.to_dict(), EXTRACTOR_ID, FORMAT_VERSION]
    if sentence_method(embedder) != ENCODED:  # (indexes of encoded sentences keep the key they always had)
        parts.append(sentence_method(embedder))
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def current_index(
    index_dir: Path, corpus: Corpus, embedder: Embedder, settings: ChunkSettings
) -> tuple[StoredIndex | None, str | None]:
    """The live index and why it cannot serve this corpus as it is (None when it can)."""
    try:
        current = generations.read_index(index_dir)
    except IndexDamagedError as exc:
        return None, f"the existing index is unusable ({exc}), rebuilding it"
    if current is None:
        return None, "first build"
    incompatible = incompatibility(current.manifest, embedder, settings)
    if incompatible:
        return current, incompatible
    changes = corpus_changes(corpus, current.manifest, current.files())
    if changes:
        return current, f"the documents changed ({changes.describe()})"
    return current, None


def incompatibility(manifest: Manifest, embedder: Embedder, settings: ChunkSettings) -> str | None:
    """Why an index with this manifest cannot be updated for this model and these settings (None: it can).

    The format version needs no check here: a manifest of another format does not load.
    """
    model = manifest.model
    if model.name != embedder.name or model.dim != embedder.dim:
        return f"the model changed ({model.name} -> {embedder.name}), rebuilding"
    if model.sentences != sentence_method(embedder):
        return f"sentence vectors are now {sentence_method(embedder)} (were {model.sentences}), rebuilding"
    if manifest.chunking != settings.to_dict():
        return "the chunk settings changed, rebuilding"
    if manifest.extractor != EXTRACTOR_ID:
        return "the article extractor changed, rebuilding"
    return None


def corpus_changes(corpus: Corpus, manifest: Manifest, files: dict[str, dict[str, Any]]) -> Changes:
    """Compare the files on disk with those the index was built from: stat first, hash only on doubt."""
    known = files if manifest.corpus.root == str(corpus.root) else {}
    added, changed = [], []
    for file in corpus.files:
        entry = known.get(file.relpath)
        if entry is None:
            added.append(file.relpath)
        elif (entry.get("size"), entry.get("mtime_ns")) != (file.size, file.mtime_ns):
            if entry.get("size") != file.size or entry.get("sha256") != file_sha256(file.abspath):
                changed.append(file.relpath)
    present = {f.relpath for f in corpus.files}
    removed = [path for path in known if path not in present]
    return Changes(tuple(added), tuple(changed), tuple(removed))
