"""The command line: `ask.py "QUESTION"`, `--questions FILE`, `--eval FILE`, `--passages`, `chat`, `serve`, `index`."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

try:  # typer >= 0.20 ships its own copy of click
    from typer._click.exceptions import ClickException, UsageError
except ImportError:  # pragma: no cover - older typer on the real click
    from click.exceptions import ClickException, UsageError  # type: ignore[assignment]

from qa.embed import preload
from qa.errors import QAError
from qa.fronts.options import BACKEND_NAMES, DocsOption, IndexOption, ModelOption
from qa.inputs import AUTO_BACKEND, DEFAULT_K, DEFAULT_MODE, MAX_K
from qa.text.encoding import terminal_safe

__all__ = ["app", "ask", "main"]

EXIT_INTERRUPTED = 130

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

_MODE_HELP = "Retrieval: hybrid (BM25 + dense, fused), dense or bm25."
_BACKEND_HELP = f"Encoder for (re)building: {BACKEND_NAMES}."
_Question = Annotated[str | None, typer.Argument(help="The question to answer.", show_default=False)]
_Top = Annotated[int, typer.Option("--top", "-k", min=1, max=MAX_K, help="How many passages to show.")]
_Mode = Annotated[str, typer.Option(help=_MODE_HELP)]
_Json = Annotated[bool, typer.Option("--json", help="Print JSON (one object per question).")]
_Questions = Annotated[
    Path | None, typer.Option(help='Answer each {"id"?, "question"} line of a .jsonl file.', show_default=False)
]
_Eval = Annotated[
    Path | None,
    typer.Option(
        "--eval",
        help='Score the index on {"question", "answers": [...]} lines (no answers: should abstain).',
        show_default=False,
    ),
]
_Passages = Annotated[bool, typer.Option("--passages", help="Print every indexed passage as JSON lines.")]
_Explain = Annotated[
    Path | None,
    typer.Option(help="Show what article extraction keeps and drops from FILE, and why.", show_default=False),
]
_Source = Annotated[
    str | None,
    typer.Option(help="Only articles whose publisher, byline, title or path contains this.", show_default=False),
]
_Since = Annotated[
    str | None, typer.Option(help="Only articles published on or after this date (YYYY-MM-DD).", show_default=False)
]
_Until = Annotated[
    str | None, typer.Option(help="Only articles published on or before this date (YYYY-MM-DD).", show_default=False)
]
_Chat = Annotated[bool, typer.Option("--chat", hidden=True)]
_Serve = Annotated[bool, typer.Option("--serve", hidden=True)]
_Host = Annotated[str, typer.Option(help="serve: address to listen on.")]
_Port = Annotated[int, typer.Option(min=1, max=65535, help="serve: port.")]
_Rebuild = Annotated[bool, typer.Option("--rebuild", help="Rebuild the index from scratch.")]
_Backend = Annotated[str, typer.Option(help=_BACKEND_HELP)]
_Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No build messages or progress bar.")]
_Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")]


@app.command(context_settings={"help_option_names": ["-h", "--help"]})
def ask(
    question: _Question = None,
    top: _Top = DEFAULT_K,
    mode: _Mode = DEFAULT_MODE,
    json_output: _Json = False,
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
    chat: _Chat = False,
    serve: _Serve = False,
    host: _Host = "127.0.0.1",
    port: _Port = 8000,
    rebuild: _Rebuild = False,
    backend: _Backend = AUTO_BACKEND,
    quiet: _Quiet = False,
    debug: _Debug = False,
) -> None:
    """Answer QUESTION with verbatim passages from the articles, each with its source and lines.

    `ask.py chat` (or ask.py with no question on a terminal) opens a chat; `ask.py serve` starts the HTTP
    API and the chat page on http://127.0.0.1:8000/ (--host, --port).

    Exit codes: 0 success (also when nothing matches), 2 bad usage or input, 1 any other error,
    130 interrupted.
    """
    parameters = dict(locals())  # every parameter, by the same name
    if not (passages or explain):  # every other form encodes questions: their encoder loads meanwhile
        preload.start(model)
    from qa.fronts.actions import AskOptions, run  # the search code: imported while the encoder loads
    from qa.fronts.console import ConsoleReporter

    options = AskOptions(**parameters)
    reporter = ConsoleReporter(quiet)
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
    first_line = message.splitlines()[0] if message else "error"
    print(f"error: {terminal_safe(first_line)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    """Entry point of `ask.py` and the `ask` script: usage errors become one line and exit 2."""
    command = typer.main.get_command(app)
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = "ask.py"
    if argv and argv[0] in ("chat", "serve"):  # the two subcommands; `ask.py -- chat` asks the question "chat"
        argv = [f"--{argv[0]}", *argv[1:]]
    elif argv and argv[0] == "index":  # ask.py index status|update|add|remove
        from qa.fronts.index_cli import index_app

        command, argv, prog = typer.main.get_command(index_app), argv[1:], "ask.py index"
    try:
        code = command.main(args=argv, prog_name=prog, standalone_mode=False)
    except UsageError as exc:
        _error(f"{exc.format_message()} (see {prog} --help)")
        code = 2
    except (typer.Abort, KeyboardInterrupt):
        print("error: interrupted", file=sys.stderr)
        code = EXIT_INTERRUPTED
    except typer.Exit as exc:
        code = exc.exit_code
    except ClickException as exc:
        _error(exc.format_message())
        code = exc.exit_code
    except QAError as exc:  # from `ask.py index ...`; the question path handles its own
        _error(str(exc))
        code = exc.exit_code
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback
        _error(f"unexpected {type(exc).__name__}: {exc}")
        code = 1
    sys.exit(code if isinstance(code, int) else 0)
