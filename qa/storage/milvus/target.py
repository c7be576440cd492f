"""Where a Milvus store is: ``milvus:PATH.db`` (Milvus Lite, embedded) or ``milvus://HOST:PORT``, and a collection."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from qa.errors import BadInputError

DEFAULT_COLLECTION = "newsqa"

META_SUFFIX = "_meta"  # collection <name> keeps its manifest and document records in <name>_meta

_NAME_MAX = 255  # bytes in one file name (a Lite .db is a folder)

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,199}$")  # Milvus's collection names, leaving room for "_meta"


@dataclass(frozen=True)
class MilvusTarget:
    """Where the store is: an embedded Milvus Lite .db (`local`) or a server's URI, and the collection."""

    uri: str  # the .db folder's absolute path, or http://HOST:PORT
    collection: str = DEFAULT_COLLECTION
    local: bool = True

    @classmethod
    def parse(cls, spec: str) -> MilvusTarget:
        """``milvus:PATH.db`` (relative to the current directory) or ``milvus://HOST:PORT``, then an optional
        ``#collection``."""
        text = spec.strip()
        if not text.startswith("milvus:"):
            raise BadInputError(f"not a Milvus store: {spec!r} (expected milvus:PATH.db or milvus://HOST:PORT)")
        base, collection = text, DEFAULT_COLLECTION
        if "#" in text and not text.endswith(".db"):  # a '#' inside a .db path is part of the path
            base, _, collection = text.rpartition("#")
            if not _NAME.match(collection):
                raise BadInputError(
                    f"bad Milvus collection name {collection!r} in {spec!r}: letters, digits and underscores,"
                    " not starting with a digit, at most 200"
                )
            if collection.endswith(META_SUFFIX):
                raise BadInputError(
                    f"bad Milvus collection name {collection!r} in {spec!r}: a name ending in {META_SUFFIX!r} is"
                    " the store's own (it keeps <name>_meta beside each collection <name>)"
                )
        if base.startswith("milvus://"):
            return cls(_server_uri(base, spec), collection, local=False)
        path = base[len("milvus:") :]
        if not path.endswith(".db") or path == ".db":
            raise BadInputError(f"a Milvus Lite store is a path ending in .db: {spec!r}")
        if len(Path(path).name.encode("utf-8", "surrogateescape")) > _NAME_MAX:
            raise BadInputError(f"the Milvus Lite store's name is longer than a file name may be ({_NAME_MAX} bytes)")
        return cls(str(Path(path).expanduser().absolute()), collection, local=True)

    def __str__(self) -> str:
        where = f"milvus:{self.uri}" if self.local else f"milvus://{self.uri.removeprefix('http://')}"
        return where if self.collection == DEFAULT_COLLECTION else f"{where}#{self.collection}"


def _server_uri(base: str, spec: str) -> str:
    try:
        parts = urlsplit(base)
        port = parts.port
    except ValueError:
        port = None
        parts = None
    if parts is None or not parts.hostname or port is None or parts.path not in ("", "/") or parts.query:
        raise BadInputError(f"a Milvus server is milvus://HOST:PORT: {spec!r}")
    return f"http://{parts.netloc}"


def with_collection(target: MilvusTarget) -> str:
    """`target` with a `#name` collection to fill in."""
    return f"{str(target).rsplit('#', 1)[0]}#name"
