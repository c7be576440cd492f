"""Where things live by default: the seed articles and the folder of built indexes."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_docs() -> Path:
    """`seeds/` in the working folder, else the project's own seeds."""
    here = Path("seeds")
    return here if here.is_dir() else PROJECT_ROOT / "seeds"


def index_home() -> Path:
    """`index/` of the project checkout; the user cache folder when installed elsewhere."""
    if (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "qa").is_dir():
        return PROJECT_ROOT / "index"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "newsqa" / "index"


def default_index_dir(docs: Path) -> Path:
    """One index per corpus: `<home>/<corpus name>-<hash of its absolute path>`."""
    resolved = docs.resolve()
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", resolved.stem or "corpus").strip("-.") or "corpus"
    digest = hashlib.sha1(str(resolved).encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return index_home() / f"{name}-{digest}"
