"""Command-line options that `ask.py` and `ask.py index` share: where the corpus, index and model are."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qa.inputs import AUTO_BACKEND, BACKENDS

BACKEND_NAMES = ", ".join((AUTO_BACKEND, *BACKENDS))

DocsOption = Annotated[
    Path | None,
    typer.Option(help="Folder of .txt/.md/.html articles or a .jsonl file. (default: seeds/)", show_default=False),
]
IndexOption = Annotated[
    Path | None, typer.Option(help="Index folder. (default: index/<corpus>-<hash>/)", show_default=False)
]
ModelOption = Annotated[
    str | None, typer.Option(envvar="QA_MODEL", help="Local sentence-transformers model folder.", show_default=False)
]
