"""What `ask.py` does for each form of its command line, once the options are checked."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from qa.app import (
    OpenOptions,
    Retriever,
    check_backend,
    check_date,
    check_mode,
    check_question,
    check_text,
    evaluate,
    markdown,
    open_retriever,
    terminal_safe,
)
from qa.errors import BadInputError, DocsNotFoundError, EmptyQuestionError
from qa.fronts.console import ConsoleReporter, Stdout
from qa.fronts.options import docs_error
from qa.fronts.present import explain_json, passage_json, render_explain, render_report, render_result, result_json
from qa.fronts.question_files import AskedQuestion, read_graded, read_questions
from qa.records import GradedQuestion, SearchResult

ONE_FORM = (
    'give one question (ask.py "When did the withdrawal finish?"), or --questions FILE, --eval FILE,'
    " --passages or --explain FILE"
)
FORMATS = ("text", "markdown")


@dataclass(frozen=True)
class AskOptions:
    """The command line of `ask.py`, as typer parsed it (names as the `ask` command's parameters)."""

    question: str | None
    top: int
    mode: str
    json_output: bool
    docs: Path | None
    index: Path | None
    model: str | None
    questions: Path | None
    evaluate_file: Path | None
    passages: bool
    explain: Path | None
    source: str | None
    since: str | None
    until: str | None
    chat: bool
    serve: bool
    host: str
    port: int
    rebuild: bool
    backend: str
    quiet: bool
    debug: bool
    cite: bool = False
    output_format: str = "text"
    store: str | None = None  # a Milvus mirror to search (qa/storage/milvus/), or None
    fast: bool = False  # no reader: answers from retrieval alone


def run(options: AskOptions, reporter: ConsoleReporter) -> None:
    """Do what the command line asks; raises QAError (a one-line message) when it cannot."""
    form = form_of(options)
    _check_output(options, form)
    if form == "explain" and options.explain is not None:
        _explain(options.explain, options.json_output)
        return
    options = checked(options)
    asked = read_questions(options.questions) if form == "questions" and options.questions else []
    graded = read_graded(options.evaluate_file) if form == "eval" and options.evaluate_file else []
    try:
        retriever = open_retriever(
            OpenOptions(
                docs=options.docs,
                index=options.index,
                model=options.model,
                rebuild=options.rebuild,
                backend=options.backend,
                store=options.store,
                reader=not options.fast,
            ),
            reporter,
        )
    except DocsNotFoundError as exc:  # the corpus: --docs (or the seeds it defaults to)
        raise docs_error(exc) from None
    reporter.close()
    if form == "chat":
        _chat(retriever, options)
    elif form == "serve":
        _serve(retriever, options)
    elif form == "eval":
        _evaluate(retriever, options, graded)
    elif form == "passages":
        _passages(retriever)
    elif form == "questions":
        _answer_all(retriever, options, asked)
    else:
        _answer(retriever, options)
    sys.stdout.flush()


def form_of(options: AskOptions) -> str:
    """explain, chat, serve, eval, passages, questions or question; refuses none or several."""
    forms = {
        "question": options.question is not None,
        "questions": options.questions is not None,
        "passages": options.passages,
        "explain": options.explain is not None,
        "eval": options.evaluate_file is not None,
        "chat": options.chat,
        "serve": options.serve,
    }
    chosen = [form for form, given in forms.items() if given]
    if not chosen and sys.stdin.isatty() and sys.stdout.isatty():
        return "chat"  # `ask.py` alone on a terminal
    if len(chosen) != 1:
        raise BadInputError(ONE_FORM)
    return chosen[0]


def checked(options: AskOptions) -> AskOptions:
    """The options with every value checked and the dates normalised, before any model or index work."""
    since, until = check_date(options.since, "--since"), check_date(options.until, "--until")
    if since is not None and until is not None and since > until:
        raise BadInputError(f"--since {since} is after --until {until}")
    if options.question is not None:
        _check_typed_question(options.question)
    check_mode(options.mode, "--mode")
    check_backend(options.backend, "--backend")
    if options.source is not None:
        check_text(options.source, "--source")
    return replace(options, since=since, until=until)


def _check_output(options: AskOptions, form: str) -> None:
    """--format and --cite: how answers are printed, so only with answers (a question or --questions)."""
    if options.output_format not in FORMATS:
        raise BadInputError(f"unknown --format {options.output_format!r}; choose one of: {', '.join(FORMATS)}")
    markdown_asked = options.output_format == "markdown"
    if (markdown_asked or options.cite) and form not in ("question", "questions"):
        raise BadInputError("--cite and --format markdown print answers: give a question or --questions FILE")
    if markdown_asked and options.json_output:
        raise BadInputError("--format markdown and --json are two formats: choose one")


def _check_typed_question(question: str) -> None:
    try:
        check_question(question)
    except EmptyQuestionError:
        raise
    except BadInputError:  # on the command line, invalid Unicode comes from undecodable bytes in argv
        raise BadInputError("the question is not valid text in the terminal's encoding") from None


def _explain(path: Path, json_output: bool) -> None:
    from qa.app import explain_file  # the extractor loads only to explain

    document, extraction = explain_file(path)
    if json_output:
        print(explain_json(str(path), document, extraction))
    else:
        render_explain(Stdout(highlight=False), str(path), document, extraction)
    sys.stdout.flush()


def _chat(retriever: Retriever, options: AskOptions) -> None:
    from qa.fronts.repl import run_repl  # prompt_toolkit only for the chat

    run_repl(retriever, k=options.top, mode=options.mode)


def _serve(retriever: Retriever, options: AskOptions) -> None:
    from qa.fronts.server import serve  # fastapi and uvicorn only for the server

    serve(retriever, host=options.host, port=options.port, mode=options.mode)


def _passages(retriever: Retriever) -> None:
    warnings: list[str] = []
    for passage, source in retriever.passages(warnings):  # the one front that reads every passage: its job
        print(passage_json(passage, source))
    for warning in warnings:
        print(f"warning: {terminal_safe(warning)}", file=sys.stderr)


def _evaluate(retriever: Retriever, options: AskOptions, graded: list[GradedQuestion]) -> None:
    report = evaluate(
        retriever,
        graded,
        k=options.top,
        mode=options.mode,
        source=options.source,
        since=options.since,
        until=options.until,
    )
    if options.json_output:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        render_report(Stdout(highlight=False), report)


def _answer_all(retriever: Retriever, options: AskOptions, asked: list[AskedQuestion]) -> None:
    out = Stdout(highlight=False)
    results = retriever.search_many(
        [item.question for item in asked],
        k=options.top,
        mode=options.mode,
        source=options.source,
        since=options.since,
        until=options.until,
    )
    for number, (item, result) in enumerate(zip(asked, results, strict=True)):
        _warn(result)
        if options.output_format == "markdown":
            print(("\n" if number else "") + terminal_safe(markdown(result)), end="")
        elif not options.json_output:
            render_result(out, result, show_question=True, cite=options.cite)
        elif item.has_id:
            print(result_json(result, item.id, with_id=True))
        else:
            print(result_json(result))


def _answer(retriever: Retriever, options: AskOptions) -> None:
    question = options.question or ""
    result = retriever.search(
        question, k=options.top, mode=options.mode, source=options.source, since=options.since, until=options.until
    )
    _warn(result)
    if options.json_output:
        print(result_json(result))
    elif options.output_format == "markdown":
        print(terminal_safe(markdown(result)), end="")  # Markdown escapes what formats; this, what a terminal runs
    else:
        render_result(Stdout(highlight=False), result, cite=options.cite)


def _warn(result: SearchResult) -> None:
    """Passages left out of an answer because they are not their file's text now: said on stderr."""
    for warning in result.warnings:
        print(f"warning: {terminal_safe(warning)}", file=sys.stderr)
