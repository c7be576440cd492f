"""`ask.py mcp`: the search as tools for an agent, a Model Context Protocol server on stdin/stdout.

The tools answer as the other fronts do: `search` is `SearchResult.to_dict()` (what `--json` prints) and
`read_passage` is the HTTP article view, so an agent quotes the same verbatim slices, with the same raw-file
offsets, as a person would. stdout belongs to the protocol: build messages go to stderr, and while the index
opens whatever a library might print is sent to stderr too. The `mcp` SDK is an optional extra, imported only
when the server starts, so `ask.py` itself never needs it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from pydantic import Field

from qa.app import AUTO_BACKEND, DEFAULT_K, HTTP_MAX_K, MAX_AROUND, OpenOptions, check_k, open_retriever
from qa.errors import BadInputError, MissingExtraError, QAError, one_line
from qa.fronts.console import ConsoleReporter
from qa.fronts.options import (
    BackendOption,
    DocsOption,
    FastOption,
    IndexOption,
    ModelOption,
    RebuildOption,
    StoreOption,
)

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from qa.app import Retriever

mcp_app = typer.Typer(
    add_completion=False, pretty_exceptions_enable=False, context_settings={"help_option_names": ["-h", "--help"]}
)

# qa.inputs.MODES spelled out: a Literal gives the agent the choices in the tool's schema (a test holds them equal)
Mode = Literal["hybrid", "dense", "bm25"]
NAME = "newsqa"
INSTRUCTIONS = (
    "Search a collection of news articles. Every passage returned is quoted verbatim from its source file, "
    "with the file, character offsets and line numbers: quote passages as given and cite their source. "
    "Nothing is generated; when `answered` is false the articles do not seem to answer the question."
)


@mcp_app.command()
def serve(
    docs: DocsOption = None,
    index: IndexOption = None,
    model: ModelOption = None,
    store: StoreOption = None,
    rebuild: RebuildOption = False,
    backend: BackendOption = AUTO_BACKEND,
    fast: FastOption = False,
) -> None:
    """Serve the search over the Model Context Protocol on stdin/stdout (for agents such as Claude Desktop).

    Opens (building or updating if needed) the index of the corpus first; build messages go to stderr.
    Tools: search, read_passage, list_sources.
    """
    options = OpenOptions(docs, index, model, rebuild, backend, store, reader=not fast)  # checked before all else
    server_class = _server_class()  # before the index opens: a missing extra is said at once

    with _stdout_to_stderr():
        reporter = ConsoleReporter(quiet=False)
        try:
            retriever = open_retriever(options, reporter)
        finally:
            reporter.close()
    build_server(retriever, server_class).run("stdio")


def _server_class() -> type[MCPServer[Any]]:
    try:
        from mcp.server.mcpserver import MCPServer
    except ImportError:
        raise MissingExtraError("the MCP server", "mcp", "mcp") from None
    return MCPServer


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """File descriptor 1 points at stderr meanwhile: a stray print, from Python or native code, cannot reach
    the client as a broken protocol message. (While serving, the SDK guards stdout the same way.)"""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # whatever sys.stdout is (a test's capture, a wrapper)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 1)
        os.close(saved)


def build_server(retriever: Retriever, server_class: type[MCPServer[Any]]) -> MCPServer[Any]:
    """An MCP server with the three tools over one opened retriever (quiet logs: only warnings, on stderr)."""
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types import ToolAnnotations

    from qa.app import __version__

    tools = Tools(retriever, ToolError)
    server = server_class(NAME, instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")
    reading = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
    for tool in (tools.search, tools.read_passage, tools.list_sources):
        server.add_tool(tool, annotations=reading, structured_output=True)
    return server


class Tools:
    """The tools as plain methods over one retriever, returning JSON-ready dicts.

    A library error (an empty question, a bad date, a damaged index) becomes `failure` with its one-line
    message, which the SDK returns as a tool error for the agent to read; the server goes on serving.
    """

    def __init__(self, retriever: Retriever, failure: type[Exception]) -> None:
        self._retriever = retriever
        self._failure = failure

    def search(
        self,
        question: Annotated[str, Field(description="The question, in plain words.")],
        # the bounds are in the schema for the agent, and checked here: pydantic's own message is many lines
        k: Annotated[
            int,
            Field(description="How many passages to return.", json_schema_extra={"minimum": 1, "maximum": HTTP_MAX_K}),
        ] = DEFAULT_K,
        mode: Annotated[
            Mode, Field(description="hybrid: BM25 and dense ranks fused; dense: embeddings only; bm25: words only.")
        ] = "hybrid",  # qa.inputs.DEFAULT_MODE
        source: Annotated[
            str | None, Field(description="Only articles whose publisher, byline, title or path contains this.")
        ] = None,
        since: Annotated[str | None, Field(description="Only articles published on or after (YYYY-MM-DD).")] = None,
        until: Annotated[str | None, Field(description="Only articles published on or before (YYYY-MM-DD).")] = None,
    ) -> dict[str, Any]:
        """Find the passages of the news articles that best answer a question, best first.

        Each passage's `text` is quoted verbatim from `source.path`, characters `start` to `end` (lines
        `line_start`-`line_end`); `highlight` marks the sentence most likely to answer and `answer` the exact
        answer span when one is found. `answered` is false when the articles do not seem to answer; `values`
        lists the figures or dates the sources give (several: they disagree). Use a passage's `id` with
        read_passage for its surroundings.
        """
        with self._failing():
            check_k(k, HTTP_MAX_K, "k")
            found = self._retriever.search(question, k, mode, source=source, since=since, until=until)
            return found.to_dict()

    def read_passage(
        self,
        passage_id: Annotated[str, Field(description="A passage `id` (or an `also_in` id) from a search result.")],
        context: Annotated[
            int,
            Field(
                description="How many passages of the article to add on each side.",
                json_schema_extra={"minimum": 0, "maximum": MAX_AROUND},
            ),
        ] = 1,
    ) -> dict[str, Any]:
        """Read a passage with its neighbours in the same article, in text order, each verbatim with its offsets.

        `current` marks the passage asked for; `more_before`/`more_after` say whether the article goes on.
        """
        with self._failing():
            if not 0 <= context <= MAX_AROUND:
                raise BadInputError(f"context must be a whole number from 0 to {MAX_AROUND}, got {context}")
            return self._around(passage_id, context)

    def _around(self, passage_id: str, context: int) -> dict[str, Any]:
        stored = self._retriever.passage(passage_id)
        if stored is None:
            raise BadInputError(f"no passage with id {passage_id[:40]!r} in this index (ids come from search)")
        found = self._retriever.context_of(stored, context, context)
        if found is None:  # its file changed in between: nothing of it is quoted
            raise BadInputError(f"passage {passage_id!r} is no longer in its file (run `ask.py index update`)")
        return found.to_dict()

    def list_sources(self) -> dict[str, Any]:
        """List the indexed articles in corpus order: path, title, publisher, date, byline and passage count."""
        with self._failing():
            documents = [
                {**indexed.source.to_dict(), "passages": indexed.passages} for indexed in self._retriever.documents()
            ]
            return {"count": len(documents), "documents": documents}

    @contextlib.contextmanager
    def _failing(self) -> Iterator[None]:
        """Every error leaves as one line for the agent: never a traceback, never a dead server."""
        try:
            yield
        except QAError as exc:
            raise self._failure(one_line(str(exc))) from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence, as in the CLI
            raise self._failure(one_line(f"unexpected {type(exc).__name__}: {exc}")) from None
