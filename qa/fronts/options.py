"""Command-line options that `ask.py` and `ask.py index` share: where the corpus, index and model are."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

try:  # typer >= 0.20 ships its own copy of click
    from typer._click.types import StringParamType
except ImportError:  # pragma: no cover - older typer on the real click
    from click.types import StringParamType  # type: ignore[assignment]

from qa.app import AUTO_BACKEND, BACKENDS
from qa.errors import BadInputError, DocsNotFoundError, SeedsNotFoundError

BACKEND_NAMES = ", ".join((AUTO_BACKEND, *BACKENDS))

DocsOption = Annotated[
    Path | None,
    typer.Option(
        metavar="PATH",
        help="Folder of .txt/.md/.html articles or a .jsonl file. (default: the seed articles)",
        show_default=False,
    ),
]
IndexOption = Annotated[
    Path | None,
    typer.Option(metavar="DIR", help="Index folder. (default: index/<corpus>-<hash>/)", show_default=False),
]
ModelOption = Annotated[
    str | None,
    typer.Option(
        envvar="QA_MODEL", metavar="DIR", help="Local sentence-transformers model folder.", show_default=False
    ),
]

StoreOption = Annotated[
    str | None,
    typer.Option(
        metavar="milvus:PATH.db|milvus://HOST:PORT",
        help="Also keep the index in Milvus (needs pip install -e '.\\[milvus]') and search it there.",
        show_default=False,
    ),
]


RebuildOption = Annotated[bool, typer.Option("--rebuild", help="Rebuild the index from scratch.")]
BackendOption = Annotated[str, typer.Option(metavar="NAME", help=f"Encoder for (re)building: {BACKEND_NAMES}.")]
FastOption = Annotated[
    bool,
    typer.Option(
        "--fast", help="Answer from retrieval alone: no reader (faster; the highlight and exact answer are rougher)."
    ),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No build messages or progress bar.")]


class Words(StringParamType):
    """A positional argument's words as given: its help shows the name (QUESTION..., FILE...) and no type beside it
    (typer would add `<str>`)."""

    name = "text"

    def get_metavar(self, param: Any, ctx: Any = None) -> str:
        return ""


def docs_error(exc: DocsNotFoundError) -> BadInputError:
    """A corpus that is not there, as the command line says it: naming --docs, which the library never does."""
    if isinstance(exc, SeedsNotFoundError):
        return BadInputError(f"{exc}; pass --docs PATH with your articles")
    return BadInputError(f"no such file or folder: {exc.path} (--docs takes {DocsNotFoundError.CORPUS})")
