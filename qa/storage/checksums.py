"""Checksums of a generation's files: recorded in the manifest at build, compared when the index loads.

Every load compares each file's size and its SHA-256: of the whole file up to FULL_LIMIT (the vectors, the
BM25 arrays and the document list of a newsroom-sized index are read whole anyway), and beyond that of a
sample (the first and last 64 KiB and SAMPLE_BLOCKS blocks of 4 KiB spread between), so that a big
store.sqlite costs a millisecond, not a full read, before the index answers. A file past FULL_LIMIT but
within BACKGROUND_LIMIT is then hashed whole on a thread while the first question is worked out (hashlib
releases the GIL), and that question's answer waits for the verdict (qa/storage/generations.py): ~70 ms for
the BBC corpus's 68 MB store, mostly hidden. Past BACKGROUND_LIMIT (a million-passage store) only the sample
is checked on load. `ask.py index verify` compares every byte of every file. A file swapped in from another
build, truncated, or altered anywhere in a hashed part never answers.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["BACKGROUND_LIMIT", "FULL_LIMIT", "Checksum", "checksum_of", "mismatch"]

FULL_LIMIT = 32 * 1024 * 1024
BACKGROUND_LIMIT = 1024 * 1024 * 1024
EDGE = 64 * 1024
BLOCK = 4096
SAMPLE_BLOCKS = 64

Checksum = dict[str, str]  # {"sha256": whole file} and, for files past FULL_LIMIT, {"sample": the sample's}


def checksum_of(path: Path) -> Checksum:
    """What the manifest records for one file."""
    recorded = {"sha256": sha256_file(path)}
    if path.stat().st_size > FULL_LIMIT:
        recorded["sample"] = _sample(path)
    return recorded


def mismatch(path: Path, recorded: Checksum, *, full: bool) -> bool:
    """True when `path` no longer has the recorded checksum: every byte when `full`, else what a load checks."""
    if full or "sample" not in recorded:
        return sha256_file(path) != recorded.get("sha256")
    return _sample(path) != recorded["sample"]


def sha256_file(path: Path) -> str:
    """The SHA-256 of every byte of `path`, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sample(path: Path) -> str:
    """SHA-256 over the size, the first and last EDGE bytes and SAMPLE_BLOCKS evenly spaced blocks."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    step = max(BLOCK, (size - 2 * EDGE) // (SAMPLE_BLOCKS + 1))
    offsets = [(0, EDGE), *((EDGE + i * step, BLOCK) for i in range(1, SAMPLE_BLOCKS + 1)), (size - EDGE, EDGE)]
    fd = os.open(path, os.O_RDONLY)
    try:
        for offset, length in offsets:
            digest.update(os.pread(fd, length, max(0, min(offset, size))))
    finally:
        os.close(fd)
    return digest.hexdigest()
