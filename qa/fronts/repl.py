"""The interactive chat: questions and follow-ups answered with verbatim passages, plus a few slash commands."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from qa.app import DEFAULT_K, DEFAULT_MODE, MAX_K, MODES, Retriever, check_date, markdown, resolve, terminal_safe
from qa.errors import QAError
from qa.fronts.present import location, render_result, source_label
from qa.records import Hit, IndexedDocument, Passage, SearchResult, Turn

PROMPT = "ask> "
CONTEXT_PASSAGES = 2  # /open shows this many passages of the article on each side of the hit
KEPT_TURNS = 10  # turns of conversation remembered for follow-ups

HELP = [
    ("QUESTION", "answer with verbatim passages; a short follow-up (“and in Almaty?”) uses the last question"),
    ("/k N", "show N passages per answer"),
    ("/mode M", "hybrid (BM25 and dense fused), dense or bm25"),
    ("/sources", "list the indexed articles"),
    ("/source TEXT", "only articles whose publisher, byline, title or path contains TEXT (/source alone: all)"),
    ("/since DATE", "only articles published on or after YYYY-MM-DD (/since alone: no limit)"),
    ("/until DATE", "only articles published on or before YYYY-MM-DD (/until alone: no limit)"),
    ("/filters", "the filters in force; /filters off drops them all"),
    ("/cite N", "the citation of passage N of the last answer, one line to paste (/cite: all of them)"),
    ("/markdown", "the last answer as Markdown, for notes"),
    ("/open N", "passage N of the last answer among its neighbours in the article"),
    ("/article N", "the whole indexed article of passage N"),
    ("/forget", "drop the conversation: the next question starts afresh (also /clear, /new)"),
    ("/help", "this list"),
    ("/quit", "leave (also Ctrl-D); Ctrl-C drops the line being typed"),
]


def default_history_path() -> Path:
    """`$XDG_DATA_HOME/newsqa/history`, by default `~/.local/share/newsqa/history`."""
    data_home = os.environ.get("XDG_DATA_HOME", "")
    base = Path(data_home) if data_home and Path(data_home).is_absolute() else Path.home() / ".local" / "share"
    return base / "newsqa" / "history"


def open_history(path: Path) -> tuple[Any, str | None]:
    """A FileHistory at `path` (folders created), or an in-memory history and a one-line warning."""
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab"):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.filename and str(exc.filename) != str(path):
            reason += f": {exc.filename}"  # the folder in the way
        return InMemoryHistory(), f"warning: cannot keep history in {path} ({reason}); it lasts this session only"
    return FileHistory(str(path)), None


def run_repl(
    retriever: Retriever,
    *,
    k: int = DEFAULT_K,
    mode: str = DEFAULT_MODE,
    history_file: Path | None = None,
    input: Any = None,
    output: Any = None,
) -> int:
    """Chat on a terminal until /quit or Ctrl-D; returns the exit code (0, or 130 for Ctrl-C on plain stdin).

    `input`/`output` are prompt_toolkit Input/Output objects (tests pass a pipe input and a DummyOutput);
    answers are printed on stdout. Without them, and when stdin is not a terminal, lines are read from stdin
    without line editing or history.
    """
    console = Console(highlight=False)
    chat = Chat(retriever, console, k=k, mode=mode)
    if input is None and not sys.stdin.isatty():
        lines: Iterator[str] = _plain_lines()
    else:
        history, warning = open_history(history_file or default_history_path())
        if warning:
            console.print(Text(terminal_safe(warning), style="yellow"), soft_wrap=True)
        lines = _prompt_lines(history, input, output)
    articles = retriever.document_count
    console.print(
        Text(f"{len(retriever)} passages from {articles} articles. Ask a question, /help for commands, Ctrl-D leaves."),
        style="dim",
        soft_wrap=True,
    )
    try:
        for line in lines:
            if not chat.handle(line):
                break
    except KeyboardInterrupt:  # only while reading plain stdin: prompt_toolkit turns Ctrl-C into a dropped line
        return 130
    return 0


def _prompt_lines(history: Any, input: Any, output: Any) -> Iterator[str]:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import WordCompleter

    commands = [command.split()[0] for command, _ in HELP if command.startswith("/")]
    session: PromptSession[str] = PromptSession(
        history=history,
        input=input,
        output=output,
        completer=WordCompleter(commands, sentence=True),
        complete_while_typing=False,
    )
    while True:
        try:
            yield session.prompt(PROMPT)
        except KeyboardInterrupt:  # Ctrl-C drops the line being typed
            continue
        except EOFError:  # Ctrl-D
            return


def _plain_lines() -> Iterator[str]:
    for line in sys.stdin:
        yield line.rstrip("\n")


@dataclass
class Chat:
    """The conversation: settings, previous turns and the last answer, and what each line of input does."""

    retriever: Retriever
    console: Console
    k: int = DEFAULT_K
    mode: str = DEFAULT_MODE
    turns: list[Turn] = field(default_factory=list)
    last: SearchResult | None = None
    source: str | None = None
    since: str | None = None
    until: str | None = None

    def handle(self, line: str) -> bool:
        """Act on one line of input; False when the chat should end."""
        line = line.strip()
        if not line:
            return True
        try:
            if line.startswith("/"):
                return self.command(line)
            bare = line.lower().rstrip("!.")
            if bare in _BARE_COMMANDS:  # "clear", "quit": a command typed without its slash, never a question
                self.say(f"(taken as /{_BARE_COMMANDS[bare]}; commands start with /, /help lists them)", "dim")
                return self.command("/" + _BARE_COMMANDS[bare])
            self.ask(line)
        except KeyboardInterrupt:
            self.say("interrupted", "yellow")
        except QAError as exc:
            self.say(f"error: {exc}", "red")
        return True

    def ask(self, question: str) -> None:
        resolved = resolve(question, self.turns)
        if resolved.used_context:
            self.say(f"searching for: {resolved.query}  ({resolved.reason}; /forget starts afresh)", "dim")
        if self._filters():
            self.say(f"filters: {self._filters()}", "dim")
        result = self.retriever.search(
            resolved.query,
            k=self.k,
            mode=self.mode,
            source=self.source,
            since=self.since,
            until=self.until,
            article=resolved.article,
        )
        render_result(self.console, result)
        self.last = result
        self.turns = [*self.turns, Turn.of(question, result, resolved.query, topic=resolved.topic)][-KEPT_TURNS:]

    def command(self, line: str) -> bool:
        words = line[1:].split()
        name, args = (words[0], words[1:]) if words else ("", [])
        action = self._commands().get(name.lower())
        if action is None:
            self.say(f"unknown command /{name}; /help lists the commands", "red")
            return True
        return action(args) is not False

    def _commands(self) -> dict[str, Callable[[list[str]], bool | None]]:
        return {
            "help": self.help,
            "?": self.help,
            "k": self.set_k,
            "mode": self.set_mode,
            "sources": self.sources,
            "open": self.open,
            "article": self.article,
            "forget": self.forget,
            "clear": self.forget,
            "new": self.forget,
            "source": self.set_source,
            "since": self.set_since,
            "until": self.set_until,
            "filters": self.filters,
            "cite": self.cite,
            "markdown": self.markdown,
            "quit": self.quit,
            "exit": self.quit,
        }

    def help(self, args: list[str]) -> None:
        width = max(len(command) for command, _ in HELP)
        for command, meaning in HELP:
            line = Text(f"  {command:<{width}}  ", style="bold")
            line.append(meaning, style="")
            self.console.print(line, soft_wrap=True)

    def set_k(self, args: list[str]) -> None:
        if len(args) != 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= MAX_K:
            self.say(f"usage: /k N, a whole number from 1 to {MAX_K} (now {self.k})", "red")
            return
        self.k = int(args[0])
        self.say(f"{self.k} passage{'s' if self.k != 1 else ''} per answer")

    def set_mode(self, args: list[str]) -> None:
        if len(args) != 1 or args[0].lower() not in MODES:
            self.say(f"usage: /mode {'|'.join(MODES)} (now {self.mode})", "red")
            return
        self.mode = args[0].lower()
        self.say(f"mode: {self.mode}")

    def forget(self, args: list[str]) -> None:
        self.turns = []
        self.say("conversation forgotten; the next question starts afresh")

    def quit(self, args: list[str]) -> bool:
        return False

    def set_source(self, args: list[str]) -> None:
        self.source = " ".join(args) or None
        self.say(f"filters: {self._filters() or 'none'}")

    def set_since(self, args: list[str]) -> None:
        self._set_date("since", args)

    def set_until(self, args: list[str]) -> None:
        self._set_date("until", args)

    def _set_date(self, which: str, args: list[str]) -> None:
        if len(args) > 1:
            self.say(f"usage: /{which} YYYY-MM-DD, or /{which} alone for no limit", "red")
            return
        value = args[0] if args else None
        if value is not None:
            try:
                value = check_date(value, f"/{which}")
            except QAError as exc:
                self.say(f"error: {exc}", "red")
                return
        since, until = (value, self.until) if which == "since" else (self.since, value)
        if since and until and since > until:
            self.say(f"error: /since {since} is after /until {until}; nothing could match", "red")
            return
        setattr(self, which, value)
        self.say(f"filters: {self._filters() or 'none'}")

    def filters(self, args: list[str]) -> None:
        if args and args != ["off"]:
            self.say("usage: /filters, or /filters off to drop them all", "red")
            return
        if args:
            self.source = self.since = self.until = None
        self.say(f"filters: {self._filters() or 'none'}")

    def _filters(self) -> str:
        parts = []
        if self.source:
            parts.append(f"source contains {self.source!r}")
        if self.since:
            parts.append(f"since {self.since}")
        if self.until:
            parts.append(f"until {self.until}")
        return ", ".join(parts)

    def cite(self, args: list[str]) -> None:
        """One citation line per passage asked for, printed plain (no wrapping) so that it copies whole."""
        hits = self._hits_asked(args, "cite")
        for hit in hits or []:
            self.console.print(Text(terminal_safe(f"[{hit.rank}] {hit.citation().text}")), soft_wrap=True)

    def markdown(self, args: list[str]) -> None:
        if self.last is None:
            self.say("no answer yet: ask a question first", "red")
            return
        asked = self.turns[-1].question if self.turns else None
        self.console.print(Text(terminal_safe(markdown(self.last, asked))), soft_wrap=True)

    def _hits_asked(self, args: list[str], command: str) -> list[Hit] | None:
        if self.last is None or not self.last.hits:
            self.say("no passages yet: ask a question first", "red")
            return None
        count = len(self.last.hits)
        if len(args) > 1 or (args and (not args[0].isdigit() or not 1 <= int(args[0]) <= count)):
            self.say(f"usage: /{command} N, a passage of the last answer from 1 to {count}", "red")
            return None
        return [self.last.hits[int(args[0]) - 1]] if args else list(self.last.hits)

    def sources(self, args: list[str]) -> None:
        articles = self._articles()
        self.say(f"{len(articles)} articles, {len(self.retriever)} passages:")
        for number, article in enumerate(articles, start=1):
            source, passages = article.source, article.passages
            line = Text(f"[{number}] ", style="bold cyan")
            line.append(terminal_safe(source_label(source) or "(no title)"), style="bold")
            self.console.print(line, soft_wrap=True)
            where = source.path + (f"#{source.id}" if source.id else "")
            count = f"{passages} passage{'s' if passages != 1 else ''}"
            self.say(f"    {where} ({count})", "cyan")

    def open(self, args: list[str]) -> None:
        self._show_article(args, "open", CONTEXT_PASSAGES)

    def article(self, args: list[str]) -> None:
        self._show_article(args, "article", None)

    def _show_article(self, args: list[str], command: str, around: int | None) -> None:
        """Passages of a hit's article in document order, the hit marked; `around` passages each side, or all."""
        hits = self._hits_asked(args, command)
        if hits is None:
            return
        hit = hits[0]  # the one asked for, or the top one
        found = self.retriever.context_of(hit.passage, around, around)
        if found is None:
            self.say("that passage is no longer in the index; ask again", "red")
            return
        first, last, passages = found.first, found.first + len(found.passages), found.passages
        self.say(source_label(hit.source) or hit.source.path, "bold")
        span = location(hit.source, passages[0].line_start, passages[-1].line_end)
        self.say(f"{span}  (passages {first + 1}-{last} of {found.total})", "cyan")
        if first > 0:
            self.say(f"    … {first} passage{'s' if first != 1 else ''} before", "dim")
        width = max(40, min(self.console.width, 100) - 6)
        for index, passage in enumerate(passages):
            self._print_passage(passage, hit.rank if index == found.at else None, width)
        if last < found.total:
            more = found.total - last
            hint = f"; /article {hit.rank} shows them all" if around is not None else ""
            self.say(f"    … {more} passage{'s' if more != 1 else ''} after{hint}", "dim")

    def _print_passage(self, passage: Passage, rank: int | None, width: int) -> None:
        """One passage under its lines, wrapped; the hit's own (with its `rank`) marked."""
        lines = _lines(passage.line_start, passage.line_end)
        marked = rank is not None
        label = f"▶ [{rank}] lines {lines}" if marked else f"  lines {lines}"
        self.console.print(Text(label, style="bold yellow" if marked else "dim"), soft_wrap=True)
        body = "\n".join(
            (("┃ " if marked else "  ") + "  " + line).rstrip()
            for paragraph in passage.text.split("\n")
            for line in (textwrap.wrap(paragraph, width) or [""])
        )
        self.say(body, "bold" if marked else "")

    def _articles(self) -> list[IndexedDocument]:
        """The indexed articles that have passages, in corpus order."""
        return [article for article in self.retriever.documents() if article.passages]

    def say(self, message: str, style: str = "") -> None:
        """One message; it may quote an article, a path or the question, so it is made terminal-safe."""
        self.console.print(Text(terminal_safe(message), style=style), soft_wrap=True)


# a command's name typed alone, without its slash: what it is taken as
_BARE_COMMANDS = {
    "clear": "forget",
    "reset": "forget",
    "forget": "forget",
    "new": "forget",
    "help": "help",
    "quit": "quit",
    "exit": "quit",
    "bye": "quit",
}


def _lines(start: int, end: int) -> str:
    return f"{start}" if start == end else f"{start}-{end}"
