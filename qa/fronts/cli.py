"""The command line: `ask.py "QUESTION"`, `--questions FILE`, `--passages`. A thin front over Retriever."""

from __future__ import annotations

import json
import os
import re
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

try:  # typer >= 0.20 ships its own copy of click
    from typer._click.exceptions import ClickException, UsageError
except ImportError:  # pragma: no cover - older typer on the real click
    from click.exceptions import ClickException, UsageError

from qa.errors import BadInputError, EmptyQuestionError, QAError
from qa.extract.article import explain_file
from qa.fronts.present import explain_json, passage_json, render_explain, render_report, render_result, result_json
from qa.records import SearchResult
from qa.search.evaluate import answers_of, evaluate
from qa.search.retriever import DEFAULT_MODE, MAX_K, MODES, Retriever
from qa.text.dates import normalise_date
from qa.text.encoding import is_encodable

EXIT_INTERRUPTED = 130

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


class _Stdout(Console):
    """stdout console that lets a closed pipe reach the CLI's handler instead of exiting with 1."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


class ConsoleReporter:
    """Build messages and warnings on stderr; a progress bar only on a terminal and without --quiet."""

    def __init__(self, quiet: bool) -> None:
        self.console = Console(stderr=True, highlight=False)
        self.quiet = quiet
        self._bar: Progress | None = None
        self._task = None

    def info(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message, style="dim", markup=False, soft_wrap=True)

    def warning(self, message: str) -> None:
        self.console.print(f"warning: {message}", style="yellow", markup=False, soft_wrap=True)

    def progress(self, done: int, total: int) -> None:
        if self.quiet or not self.console.is_terminal:
            return
        if self._bar is None:
            self._bar = Progress(
                TextColumn("Embedding"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("embed", total=total)
        self._bar.update(self._task, completed=done, total=total)
        if done >= total:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


@app.command(context_settings={"help_option_names": ["-h", "--help"]})
def ask(
    question: Annotated[str | None, typer.Argument(help="The question to answer.", show_default=False)] = None,
    top: Annotated[int, typer.Option("--top", "-k", min=1, max=MAX_K, help="How many passages to show.")] = 3,
    mode: Annotated[str, typer.Option(help="Retrieval: hybrid (BM25 + dense, fused), dense or bm25.")] = DEFAULT_MODE,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON (one object per question).")] = False,
    docs: Annotated[
        Path | None,
        typer.Option(help="Folder of .txt/.md/.html articles or a .jsonl file. (default: seeds/)", show_default=False),
    ] = None,
    index: Annotated[
        Path | None, typer.Option(help="Index folder. (default: index/<corpus>-<hash>/)", show_default=False)
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(envvar="QA_MODEL", help="Local sentence-transformers model folder.", show_default=False),
    ] = None,
    questions: Annotated[
        Path | None, typer.Option(help='Answer each {"id"?, "question"} line of a .jsonl file.', show_default=False)
    ] = None,
    evaluate_file: Annotated[
        Path | None,
        typer.Option(
            "--eval",
            help='Score the index on {"question", "answers": [...]} lines (no answers: should abstain).',
            show_default=False,
        ),
    ] = None,
    passages: Annotated[bool, typer.Option("--passages", help="Print every indexed passage as JSON lines.")] = False,
    explain: Annotated[
        Path | None,
        typer.Option(help="Show what article extraction keeps and drops from FILE, and why.", show_default=False),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(help="Only articles whose publisher, byline, title or path contains this.", show_default=False),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only articles published on or after this date (YYYY-MM-DD).", show_default=False)
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="Only articles published on or before this date (YYYY-MM-DD).", show_default=False),
    ] = None,
    chat: Annotated[bool, typer.Option("--chat", hidden=True)] = False,
    serve: Annotated[bool, typer.Option("--serve", hidden=True)] = False,
    host: Annotated[str, typer.Option(help="serve: address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="serve: port.")] = 8000,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Rebuild the index from scratch.")] = False,
    backend: Annotated[
        str,
        typer.Option(
            help="Encoder for (re)building: auto, openvino-bf16, openvino-fp16, torch-bf16, onnxruntime-fp32,"
            " torch-fp32."
        ),
    ] = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No build messages or progress bar.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Answer QUESTION with verbatim passages from the articles, each with its source and lines.

    `ask.py chat` (or ask.py with no question on a terminal) opens a chat; `ask.py serve` starts the HTTP
    API and the chat page on http://127.0.0.1:8000/ (--host, --port).

    Exit codes: 0 success (also when nothing matches), 2 bad usage or input, 1 any other error,
    130 interrupted.
    """
    reporter = ConsoleReporter(quiet)
    try:
        modes = sum(
            [
                question is not None,
                questions is not None,
                passages,
                explain is not None,
                evaluate_file is not None,
                chat,
                serve,
            ]
        )
        if modes == 0 and sys.stdin.isatty() and sys.stdout.isatty():
            chat, modes = True, 1
        if modes != 1:
            raise BadInputError(
                'give one question (ask.py "When did the withdrawal finish?"), or --questions FILE, --eval FILE,'
                " --passages or --explain FILE"
            )
        if explain is not None:
            document, extraction = explain_file(explain)
            if json_output:
                print(explain_json(str(explain), document, extraction))
            else:
                render_explain(_Stdout(highlight=False), str(explain), document, extraction)
            sys.stdout.flush()
            return
        filters = {"source": source, "since": _date_option(since, "--since"), "until": _date_option(until, "--until")}
        if question is not None and not question.strip():
            raise EmptyQuestionError()
        if question is not None and not is_encodable(question):
            raise BadInputError("the question is not valid text in the terminal's encoding")
        if mode not in MODES:
            raise BadInputError(f"unknown --mode {mode!r}; choose one of: {', '.join(MODES)}")
        from qa.embed.bulk import AUTO, BACKENDS  # light: names only

        if backend != AUTO and backend not in BACKENDS:
            raise BadInputError(f"unknown --backend {backend!r}; choose one of: {', '.join((AUTO, *BACKENDS))}")
        batch = _read_questions(questions) if questions is not None else None
        graded = _read_questions(evaluate_file, graded=True) if evaluate_file is not None else None
        retriever = Retriever.open(
            docs=docs, index=index, model=model, rebuild=rebuild, reporter=reporter, backend=backend
        )
        reporter.close()
        out = _Stdout(highlight=False)
        if chat:
            from qa.fronts.repl import run_repl

            run_repl(retriever, k=top, mode=mode)
            return
        if serve:
            from qa.fronts.server import serve as serve_http
            from qa.search.followup import history_resolver

            serve_http(retriever, host=host, port=port, resolve=history_resolver(retriever, mode))
            return
        if graded is not None:
            report = evaluate(retriever, graded, k=top, mode=mode, **filters)
            if json_output:
                print(json.dumps(report.to_dict(), ensure_ascii=False))
            else:
                render_report(out, report)
        elif passages:
            for passage, source in retriever.passages():
                print(passage_json(passage, source))
        elif batch is not None:
            results = retriever.search_many([r["question"] for r in batch], k=top, mode=mode, **filters)
            for record, result in zip(batch, results, strict=True):
                if json_output:
                    print(_result_line(result, record))
                else:
                    render_result(out, result, show_question=True)
        else:
            result = retriever.search(question, k=top, mode=mode, **filters)
            if json_output:
                print(_result_line(result, None))
            else:
                render_result(out, result)
        sys.stdout.flush()
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


def _read_questions(path: Path, *, graded: bool = False) -> list[dict[str, Any]]:
    """Parse and check every line before any work, so a bad line costs nothing.

    With `graded`, each record also gets "_answers": its checked list of accepted answers.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BadInputError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"cannot read {path}: {exc}") from None
    records = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadInputError(f"{path}:{lineno}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("question"), str):
            raise BadInputError(f'{path}:{lineno}: expected {{"id"?, "question": "..."}}')
        if not record["question"].strip():
            raise BadInputError(f"{path}:{lineno}: the question is empty")
        if not is_encodable(record["question"]):
            raise BadInputError(f"{path}:{lineno}: the question holds invalid Unicode")
        if graded:
            record["_answers"] = answers_of(record, f"{path}:{lineno}")
        records.append(record)
    if not records:
        raise BadInputError(f"{path}: no questions")
    return records


def _date_option(value: str | None, name: str) -> str | None:
    """Accept YYYY-MM-DD only, before any model or index work."""
    if value is None:
        return None
    if not _ISO_DATE.match(value.strip()) or normalise_date(value) != value.strip():
        raise BadInputError(f"{name} takes a date as YYYY-MM-DD, got {value!r}")
    return value.strip()


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _result_line(result: SearchResult, record: dict[str, Any] | None) -> str:
    if record is None or "id" not in record:
        return result_json(result)
    return result_json(result, record["id"], with_id=True)


def _fail(message: str, code: int, debug: bool) -> None:
    if debug:
        traceback.print_exc()
    first_line = message.splitlines()[0] if message else "error"
    print(f"error: {first_line}", file=sys.stderr)
    raise typer.Exit(code)


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
        print(f"error: {exc.format_message()} (see {prog} --help)", file=sys.stderr)
        code = 2
    except (typer.Abort, KeyboardInterrupt):
        print("error: interrupted", file=sys.stderr)
        code = EXIT_INTERRUPTED
    except typer.Exit as exc:
        code = exc.exit_code
    except ClickException as exc:
        print(f"error: {exc.format_message()}", file=sys.stderr)
        code = exc.exit_code
    except QAError as exc:  # from `ask.py index ...`; the question path handles its own
        print(f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
        code = exc.exit_code
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback
        print(f"error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        code = 1
    sys.exit(code if isinstance(code, int) else 0)
