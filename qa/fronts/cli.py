"""The command line: `ask.py QUESTION...` (or `--questions FILE`, `--eval FILE`, `--passages`, `--explain FILE`)
and the commands `chat`, `serve`, `index` and `mcp`, each with its own options and its own `--help`."""

from __future__ import annotations

import os
import re
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

try:  # typer >= 0.20 ships its own copy of click
    from typer._click import exceptions as _click_exceptions
    from typer._click.core import Command, Context
    from typer._click.exceptions import ClickException, UsageError
    from typer._click.formatting import HelpFormatter
except ImportError:  # pragma: no cover - older typer on the real click
    from click import exceptions as _click_exceptions  # type: ignore[no-redef]
    from click.core import Command, Context  # type: ignore[assignment]
    from click.exceptions import ClickException, UsageError  # type: ignore[assignment]
    from click.formatting import HelpFormatter  # type: ignore[assignment]

from qa.app import AUTO_BACKEND, DEFAULT_K, DEFAULT_MODE, MAX_K, preload, terminal_safe
from qa.errors import QAError, one_line
from qa.fronts.options import (
    BackendOption,
    DocsOption,
    FastOption,
    IndexOption,
    ModelOption,
    QuietOption,
    RebuildOption,
    StoreOption,
    Words,
)

__all__ = ["COMMANDS", "app", "ask", "chat_app", "main", "serve_app"]

EXIT_INTERRUPTED = 130
PROG = "ask.py"
# the commands of ask.py besides a question, as its --help lists them; each has its own --help
COMMANDS = {
    "chat": "Chat in the terminal, the model and index loaded once.",
    "serve": "Serve the HTTP API and the chat page (http://127.0.0.1:8000/).",
    "index": "Show, verify and update the index; add or remove articles.",
    "mcp": "Serve the search as tools for AI agents (Model Context Protocol).",
}
_HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}
_NO_ARGS_IS_HELP: Any = getattr(_click_exceptions, "NoArgsIsHelpError", ())  # click < 8.2 has none


class _QuestionCommand(TyperCommand):
    """`ask.py`'s own command, whose help also lists the other commands, one line each."""

    def get_usage(self, ctx: Context) -> str:
        return super().get_usage(ctx) + f"\n       {PROG} COMMAND [OPTIONS]   (COMMAND: {', '.join(COMMANDS)})"

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        super().format_help(ctx, formatter)
        if typer.core.HAS_RICH and self.rich_markup_mode is not None:
            try:
                _rich_commands_panel(self.rich_markup_mode)
                return
            except (ImportError, AttributeError, TypeError):  # pragma: no cover - typer's private helpers moved
                pass
        with formatter.section("Commands"):
            formatter.write_dl(list(COMMANDS.items()))


def _rich_commands_panel(markup_mode: Any) -> None:
    """The Commands panel as typer draws a group's (its private helper: typer is pinned below 0.29)."""
    from typer import rich_utils

    listed: list[Command] = [TyperCommand(name, help=text) for name, text in COMMANDS.items()]
    rich_utils._print_commands_panel(
        name="Commands",
        commands=listed,
        markup_mode=markup_mode,
        console=rich_utils._get_rich_console(),
        cmd_len=max(len(name) for name in COMMANDS),
    )


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
chat_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
serve_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

_MODE_HELP = "Retrieval: hybrid (BM25 + dense, fused), dense or bm25."
_Question = Annotated[
    list[str] | None,
    typer.Argument(
        click_type=Words(),
        metavar="QUESTION...",
        help="The question; its words may come unquoted (ask.py How many troops were sent). Use -- before a"
        " question that starts with a command's name or a dash: ask.py -- chat",
        show_default=False,
    ),
]
_Top = Annotated[int, typer.Option("--top", "-k", metavar="K", min=1, max=MAX_K, help="How many passages to show.")]
_Mode = Annotated[str, typer.Option(metavar="hybrid|dense|bm25", help=_MODE_HELP)]
_Json = Annotated[bool, typer.Option("--json", help="Print JSON (one object per question).")]
_Cite = Annotated[
    bool, typer.Option("--cite", help="Print each passage as its one-line citation (--json has it as `citation`).")
]
_Format = Annotated[
    str,
    typer.Option(
        "--format", metavar="text|markdown", help="text: for the terminal; markdown: the answer as Markdown notes."
    ),
]
_Questions = Annotated[
    Path | None,
    typer.Option(metavar="FILE", help='Answer each {"id"?, "question"} line of a .jsonl file.', show_default=False),
]
_Eval = Annotated[
    Path | None,
    typer.Option(
        "--eval",
        metavar="FILE",
        help='Score the index on {"question", "answers": [...]} lines (no answers: should abstain).',
        show_default=False,
    ),
]
_Passages = Annotated[bool, typer.Option("--passages", help="Print every indexed passage as JSON lines.")]
_Explain = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE", help="Show what article extraction keeps and drops from FILE, and why.", show_default=False
    ),
]
_Source = Annotated[
    str | None,
    typer.Option(
        metavar="TEXT",
        help="Only articles whose publisher, byline, title or path contains TEXT.",
        show_default=False,
    ),
]
_Since = Annotated[
    str | None,
    typer.Option(metavar="YYYY-MM-DD", help="Only articles published on or after this date.", show_default=False),
]
_Until = Annotated[
    str | None,
    typer.Option(metavar="YYYY-MM-DD", help="Only articles published on or before this date.", show_default=False),
]
_Host = Annotated[str, typer.Option(metavar="ADDRESS", help="Address to listen on (localhost only by default).")]
_Port = Annotated[int, typer.Option(metavar="PORT", min=1, max=65535, help="Port to listen on.")]
_Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")]

_DEFAULTS: dict[str, Any] = {
    "question": None,
    "top": DEFAULT_K,
    "mode": DEFAULT_MODE,
    "json_output": False,
    "docs": None,
    "index": None,
    "model": None,
    "questions": None,
    "evaluate_file": None,
    "passages": False,
    "explain": None,
    "source": None,
    "since": None,
    "until": None,
    "chat": False,
    "serve": False,
    "host": "127.0.0.1",
    "port": 8000,
    "rebuild": False,
    "backend": AUTO_BACKEND,
    "store": None,
    "quiet": False,
    "debug": False,
    "cite": False,
    "output_format": "text",
    "fast": False,
}


@app.command(cls=_QuestionCommand, context_settings=_HELP_OPTIONS)
def ask(
    question: _Question = None,
    top: _Top = DEFAULT_K,
    mode: _Mode = DEFAULT_MODE,
    json_output: _Json = False,
    cite: _Cite = False,
    output_format: _Format = "text",
    docs: DocsOption = None,
    index: IndexOption = None,
    model: ModelOption = None,
    questions: _Questions = None,
    evaluate_file: _Eval = None,
    passages: _Passages = False,
    explain: _Explain = None,
    source: _Source = None,
    since: _Since = None,
    until: _Until = None,
    rebuild: RebuildOption = False,
    backend: BackendOption = AUTO_BACKEND,
    store: StoreOption = None,
    quiet: QuietOption = False,
    debug: _Debug = False,
    fast: FastOption = False,
) -> None:
    """Answer QUESTION with verbatim passages from the articles, each with its source and lines.

    With no question on a terminal, opens the chat (ask.py chat).

    Exit codes: 0 success (also when nothing matches), 2 bad usage or input, 1 any other error, 130 interrupted.
    """
    given = dict(locals())  # every parameter, by the same name
    given["question"] = " ".join(question) if question else None  # unquoted words are one question
    _run(given)


@chat_app.command(context_settings=_HELP_OPTIONS)
def chat(
    top: _Top = DEFAULT_K,
    mode: _Mode = DEFAULT_MODE,
    docs: DocsOption = None,
    index: IndexOption = None,
    model: ModelOption = None,
    rebuild: RebuildOption = False,
    backend: BackendOption = AUTO_BACKEND,
    store: StoreOption = None,
    quiet: QuietOption = False,
    debug: _Debug = False,
    fast: FastOption = False,
) -> None:
    """Chat in the terminal: the model and index loaded once, line editing and history (/help lists commands)."""
    _run({**locals(), "chat": True})


@serve_app.command(context_settings=_HELP_OPTIONS)
def serve(
    host: _Host = "127.0.0.1",
    port: _Port = 8000,
    mode: _Mode = DEFAULT_MODE,
    docs: DocsOption = None,
    index: IndexOption = None,
    model: ModelOption = None,
    rebuild: RebuildOption = False,
    backend: BackendOption = AUTO_BACKEND,
    store: StoreOption = None,
    quiet: QuietOption = False,
    debug: _Debug = False,
    fast: FastOption = False,
) -> None:
    """Serve the HTTP API (POST /search, GET /passages/ID) and the chat page on http://HOST:PORT/."""
    _run({**locals(), "serve": True})


def _run(given: dict[str, Any]) -> None:
    """Run one form of the command line, every error as one line with its exit code."""
    debug = bool(given.get("debug"))
    options_given = {**_DEFAULTS, **given}
    if not (options_given["passages"] or options_given["explain"]):  # every other form encodes questions
        preload.start(options_given["model"])  # their encoder loads meanwhile
    from qa.fronts.actions import AskOptions, run  # the search code: imported while the encoder loads
    from qa.fronts.console import ConsoleReporter

    options = AskOptions(**options_given)
    reporter = ConsoleReporter(options.quiet)
    try:
        run(options, reporter)
    except QAError as exc:
        reporter.close()
        _fail(str(exc), exc.exit_code, debug)
    except KeyboardInterrupt:
        reporter.close()
        _fail("interrupted; any index already built is unchanged", EXIT_INTERRUPTED, debug)
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): not an error; silence the final flush of stdout
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        reporter.close()
        _fail(f"unexpected {type(exc).__name__}: {exc}", 1, debug)


def _fail(message: str, code: int, debug: bool) -> None:
    if debug:
        traceback.print_exc()
    _error(message)
    raise typer.Exit(code)


def _error(message: str) -> None:
    """One line on stderr; what a file name or an argument carries (escapes, surrogates) is shown, not run."""
    print(f"error: {terminal_safe(one_line(message, limit=2000))}", file=sys.stderr)


def _command(argv: list[str]) -> tuple[Command, list[str], str]:
    """The command `argv` names (its first word: chat, serve, index, mcp), else the question; with its arguments
    and the name its help and errors use. `ask.py -- chat` asks the question "chat"."""
    name = argv[0] if argv else None
    if name == "chat":
        return typer.main.get_command(chat_app), argv[1:], f"{PROG} chat"
    if name == "serve":
        return typer.main.get_command(serve_app), argv[1:], f"{PROG} serve"
    if name == "index":  # ask.py index status|verify|update|add|remove
        from qa.fronts.index_cli import index_app

        return typer.main.get_command(index_app), argv[1:], f"{PROG} index"
    if name == "mcp":  # ask.py mcp: a Model Context Protocol server over stdio
        from qa.fronts.mcp_server import mcp_app

        return typer.main.get_command(mcp_app), argv[1:], f"{PROG} mcp"
    return typer.main.get_command(app), argv, PROG


def _usage_message(exc: UsageError, prog: str) -> str:
    """click's usage error as one of ours: lower-case, no final stop, and where to look (or how to ask a question
    that starts with a command's name)."""
    message = _lower_first(exc.format_message().strip()).rstrip(".")
    message = re.sub(r"is not a valid (int range|integer)", "is not a whole number", message)  # --top x, --port x
    where = exc.ctx.command_path if exc.ctx is not None else prog
    name = prog.removeprefix(PROG).strip()
    if name and (message.startswith("got unexpected extra argument") or message.startswith("no such command")):
        return f"{message}; to ask a question that starts with {name!r}, put -- first: {PROG} -- {name} ..."
    return f"{message} (see {where} --help)"


def _lower_first(message: str) -> str:
    """'No such option: --x' -> 'no such option: --x'; a first word that is a name (QUESTION, --top) stays."""
    return re.sub(r"^[A-Z](?=[a-z ])", lambda match: match.group().lower(), message)


def main(argv: list[str] | None = None) -> None:
    """Entry point of `ask.py` and the `ask` script: usage errors become one line and exit 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = PROG
    try:
        command, args, prog = _command(argv)
        code = command.main(args=args, prog_name=prog, standalone_mode=False)
    except _NO_ARGS_IS_HELP as exc:  # `ask.py index` alone: its help (typer's rich help is already printed)
        shown = exc.format_message()
        if shown.strip() and not (typer.core.HAS_RICH and getattr(exc.ctx.command, "rich_markup_mode", None)):
            print(shown)
        code = 0
    except UsageError as exc:
        _error(_usage_message(exc, prog))
        code = 2
    except (typer.Abort, KeyboardInterrupt):
        print("error: interrupted", file=sys.stderr)
        code = EXIT_INTERRUPTED
    except typer.Exit as exc:
        code = exc.exit_code
    except ClickException as exc:
        _error(_lower_first(exc.format_message()))
        code = exc.exit_code
    except QAError as exc:  # from `ask.py index ...` and `ask.py mcp`; the question path handles its own
        _error(str(exc))
        code = exc.exit_code
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback
        _error(f"unexpected {type(exc).__name__}: {exc}")
        code = 1
    sys.exit(code if isinstance(code, int) else 0)
