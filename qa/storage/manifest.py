"""manifest.json, typed: what a generation was built from and with, the sizes of its files, its format."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.errors import IndexDamagedError
from qa.storage.checksums import BACKGROUND_LIMIT, mismatch
from qa.storage.vectors import AnnSpec

FORMAT = "newsqa-index"
FORMAT_VERSION = 4
MANIFEST = "manifest.json"
# the members that must be JSON objects; a manifest lacking one cannot be trusted
_OBJECTS = ("model", "chunking", "corpus", "counts", "files", "vector_index")


@dataclass(frozen=True)
class ModelInfo:
    """The embedding model the vectors come from, and the encoder that computed them."""

    name: str
    dim: int
    backend: str  # every backend's vectors are within cosine 0.999 of the reference (tests/embed/test_backends.py)
    normalized: bool = True
    metric: str = "inner_product"
    sentences: str = "encoded"  # how sentence vectors were made (qa.embed.texts: "pooled" or "encoded")

    def to_dict(self) -> dict[str, Any]:
        written = {
            "name": self.name,
            "dim": self.dim,
            "normalized": self.normalized,
            "metric": self.metric,
            "backend": self.backend,
        }
        if self.sentences != "encoded":  # written only when not the default, so older manifests round-trip as they are
            written["sentences"] = self.sentences
        return written


@dataclass(frozen=True)
class CorpusInfo:
    kind: str  # "folder" or "jsonl"
    root: str


@dataclass(frozen=True)
class Counts:
    documents: int
    passages: int


@dataclass(frozen=True)
class LastBuild:
    """What the build that wrote this generation did."""

    embedded_passages: int = 0  # texts embedded: passages and their sentences
    reused_documents: int = 0
    resumed: bool = False
    passages_per_second: float = 0.0  # new passages over the seconds spent embedding and storing them (0: none)
    ray_workers: int = 0  # the Ray actors that embedded them (0: embedded in the building process, or nothing)
    restored_passages: int = 0  # passages whose vectors were taken from a Milvus mirror, not embedded


@dataclass(frozen=True)
class Manifest:
    """One generation's manifest.json. `files` (relpath -> size) is filled in when the generation is written."""

    created_at: str
    model: ModelInfo
    chunking: dict[str, Any]  # ChunkSettings.to_dict()
    extractor: str  # EXTRACTOR_ID, written as extraction.fingerprint
    corpus: CorpusInfo
    counts: Counts
    vector_index: AnnSpec
    build_key: str
    last_build: LastBuild = field(default_factory=LastBuild)
    versions: dict[str, str] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    # relpath -> its checksum (qa/storage/checksums.py); empty in manifests written before they were recorded
    checksums: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, keys in the order manifests have always had."""
        return {
            "created_at": self.created_at,
            "model": self.model.to_dict(),
            "chunking": dict(self.chunking),
            "extraction": {"fingerprint": self.extractor},
            "corpus": {"kind": self.corpus.kind, "root": self.corpus.root},
            "counts": {"documents": self.counts.documents, "passages": self.counts.passages},
            "vector_index": self.vector_index.to_dict(),
            "build_key": self.build_key,
            "last_build": self._last_build(),
            "versions": dict(self.versions),
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "files": dict(self.files),
            **({"checksums": {k: dict(v) for k, v in self.checksums.items()}} if self.checksums else {}),
        }

    def _last_build(self) -> dict[str, Any]:
        written: dict[str, Any] = {
            "embedded_passages": self.last_build.embedded_passages,
            "reused_documents": self.last_build.reused_documents,
            "resumed": self.last_build.resumed,
        }
        if self.last_build.passages_per_second > 0:  # written only when measured, so older manifests round-trip
            written["passages_per_second"] = round(self.last_build.passages_per_second, 1)
        if self.last_build.ray_workers > 0:
            written["ray_workers"] = self.last_build.ray_workers
        if self.last_build.restored_passages > 0:
            written["restored_passages"] = self.last_build.restored_passages
        return written

    @classmethod
    def from_dict(cls, data: object) -> Manifest:
        """Parse a manifest; raises IndexDamagedError when it is foreign, of another format or malformed."""
        checked = _checked(data)
        try:
            return _parsed(checked)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise IndexDamagedError(f"manifest.json has an unexpected structure ({exc})") from exc

    def check(self, gen: Path, *, full: bool = False) -> None:
        """Raise IndexDamagedError unless every file the manifest lists has the size and the checksum it
        recorded: what a load checks (see qa/storage/checksums.py), or every byte when `full`."""
        for filename, size in self.files.items():
            try:
                actual: int | None = (gen / filename).stat().st_size
            except OSError:  # missing, or removed by a build that finished meanwhile
                actual = None
            if actual != size:
                raise IndexDamagedError(f"{filename} is {'missing' if actual is None else 'truncated or altered'}")
        for filename, recorded in self.checksums.items():
            try:
                altered = mismatch(gen / filename, recorded, full=full)
            except OSError as exc:
                raise IndexDamagedError(f"{filename} cannot be read ({exc.strerror or exc})") from exc
            if altered:
                raise IndexDamagedError(f"{filename} differs from the file its build wrote")

    def sampled(self) -> list[str]:
        """The files a load checked by a sample only, that a background pass hashes whole (see checksums.py)."""
        return [
            name
            for name, recorded in self.checksums.items()
            if "sample" in recorded and self.files.get(name, 0) <= BACKGROUND_LIMIT
        ]

    def check_whole(self, gen: Path, names: list[str]) -> None:
        """Raise IndexDamagedError unless each of `names` matches its recorded SHA-256 byte for byte."""
        for filename in names:
            try:
                altered = mismatch(gen / filename, self.checksums[filename], full=True)
            except OSError as exc:
                raise IndexDamagedError(f"{filename} cannot be read ({exc.strerror or exc})") from exc
            if altered:
                raise IndexDamagedError(f"{filename} differs from the file its build wrote")


def read_manifest(gen: Path) -> Manifest:
    """The manifest of generation folder `gen`; raises IndexDamagedError when it is missing or unusable."""
    try:
        data = json.loads((gen / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexDamagedError("manifest.json is missing") from exc
    except (OSError, ValueError) as exc:
        raise IndexDamagedError("manifest.json is truncated or not JSON") from exc
    return Manifest.from_dict(data)


def write_manifest(gen: Path, manifest: Manifest) -> None:
    (gen / MANIFEST).write_text(json.dumps(manifest.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _checked(data: object) -> dict[str, Any]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise IndexDamagedError("not an index written by this tool")
    if data.get("format_version") != FORMAT_VERSION:
        raise IndexDamagedError(
            f"written by another version of this tool (format {data.get('format_version')}, not {FORMAT_VERSION})"
        )
    wrong = [key for key in _OBJECTS if not isinstance(data.get(key), dict)]
    if wrong:
        raise IndexDamagedError(f"manifest.json has an unexpected structure ({', '.join(wrong)})")
    return data


def _parsed(data: dict[str, Any]) -> Manifest:
    model, corpus, counts, last = data["model"], data["corpus"], data["counts"], data.get("last_build") or {}
    return Manifest(
        created_at=str(data.get("created_at", "")),
        model=ModelInfo(
            name=str(model["name"]),
            dim=int(model["dim"]),
            backend=str(model.get("backend", "none")),
            normalized=bool(model.get("normalized", True)),
            metric=str(model.get("metric", "inner_product")),
            sentences=str(model.get("sentences", "encoded")),
        ),
        chunking=dict(data["chunking"]),
        extractor=str((data.get("extraction") or {}).get("fingerprint", "")),
        corpus=CorpusInfo(kind=str(corpus.get("kind", "folder")), root=str(corpus.get("root", ""))),
        counts=Counts(documents=int(counts["documents"]), passages=int(counts["passages"])),
        vector_index=AnnSpec.from_dict(data["vector_index"]),
        build_key=str(data.get("build_key", "")),
        last_build=LastBuild(
            embedded_passages=int(last.get("embedded_passages", 0)),
            reused_documents=int(last.get("reused_documents", 0)),
            resumed=bool(last.get("resumed", False)),
            passages_per_second=float(last.get("passages_per_second", 0.0)),
            ray_workers=int(last.get("ray_workers", 0)),
            restored_passages=int(last.get("restored_passages", 0)),
        ),
        versions={str(k): str(v) for k, v in (data.get("versions") or {}).items()},
        files={str(k): int(v) for k, v in data["files"].items()},
        checksums={str(k): {str(a): str(b) for a, b in v.items()} for k, v in (data.get("checksums") or {}).items()},
    )
