"""Where things live by default: the seed articles and the folder of built indexes."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from qa.errors import SeedsNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEEDS = PROJECT_ROOT / "seeds"  # the seed articles: in the checkout, beside the package (not package data)


def default_docs() -> Path:
    """The seed articles, wherever the program runs: `seeds/` of the checkout the package is imported from (an
    editable install finds them from any folder). Given as the relative `seeds` when that is the current folder's
    own, so that paths print as `seeds/001_….txt`. Raises SeedsNotFoundError when they are not there (a wheel
    installed from PyPI or a built archive carries the package only)."""
    if not SEEDS.is_dir():
        raise SeedsNotFoundError(str(SEEDS))
    try:
        if Path("seeds").resolve() == SEEDS:
            return Path("seeds")
    except OSError:  # the current folder is gone
        pass
    return SEEDS


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
