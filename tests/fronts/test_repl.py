"""The chat REPL: driven through a real pseudo-terminal, and in-process through a prompt_toolkit pipe."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from qa import IndexDamagedError, Retriever
from qa.fronts.repl import default_history_path, run_repl

ROOT = Path(__file__).resolve().parents[2]

PARAGRAPHS = [
    "Troops of the alliance began to leave Kazakhstan on Thursday after a week of deployment in the country. "
    "The soldiers boarded planes at the airport outside the capital while officials watched the ceremony.",
    "The withdrawal ends on January 19, the defence minister told the president during a meeting in Moscow. "
    "That is several days ahead of the deadline the alliance had set for its contingent to complete the pullout.",
    "General Andrei Serdyukov led the contingent, which included troops from Belarus, Armenia, Tajikistan and "
    "Kyrgyzstan. He said the peacekeeping operation was over and thanked the soldiers for their service.",
    "In Almaty the airport resumed flights on Thursday morning, a week after protesters stormed and briefly "
    "seized it. Police said nearly two thousand more people had been detained over the unrest and looting.",
]


@pytest.fixture
def articles(tmp_path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "pullout.txt").write_text("Troops leave Kazakhstan\n\n" + "\n\n".join(PARAGRAPHS) + "\n", encoding="utf-8")
    (root / "fuel.md").write_text(
        "# Fuel prices\n\nProtests started in the west after a sharp rise in fuel prices in the first days of "
        "January. Police vehicles were set ablaze and government buildings were stormed in several cities.\n",
        encoding="utf-8",
    )
    return root


# -- through a real pseudo-terminal -------------------------------------------------------------------------

CHILD = """
import sys
from qa import Retriever
from qa.fronts.repl import run_repl
sys.exit(run_repl(Retriever.open(docs=sys.argv[1], index=sys.argv[2])))
"""
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][0-9A-Za-z]|\x1b[=>78]|[\r\x07]")


class Terminal:
    """A child process on a pseudo-terminal, read as plain text (escape sequences removed)."""

    def __init__(self, child) -> None:
        self.child = child
        self.raw = ""
        self.position = 0  # how far into the plain text earlier expectations have read

    def plain(self) -> str:
        return _ESCAPES.sub("", self.raw)

    def expect(self, text: str, timeout: float = 60) -> str:
        """Wait for `text` after what was already read; return the plain text up to and including it."""
        import pexpect

        deadline = time.monotonic() + timeout
        while (found := self.plain().find(text, self.position)) < 0:
            left = deadline - time.monotonic()
            try:
                if left <= 0:
                    raise pexpect.TIMEOUT("deadline")
                self.raw += self.child.read_nonblocking(65536, timeout=min(left, 1.0))
            except pexpect.TIMEOUT:
                if left <= 0:
                    raise AssertionError(f"{text!r} not seen; the screen ends: {self.plain()[-1500:]!r}") from None
            except pexpect.EOF:
                raise AssertionError(f"{text!r} not seen before exit: {self.plain()[-1500:]!r}") from None
        seen = self.plain()[self.position : found + len(text)]
        self.position = found + len(text)
        return seen

    def ask(self, line: str, until: str) -> str:
        self.expect("ask>")
        self.child.sendline(line)
        return self.expect(until)


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_chat_on_a_pseudo_terminal(articles, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    data_home = tmp_path / "data"
    env = {
        **os.environ,
        "QA_MODEL": "hash",
        "HF_HUB_OFFLINE": "1",
        "XDG_DATA_HOME": str(data_home),
        "PYTHONPATH": str(ROOT),
        "TERM": "xterm-256color",
        "PROMPT_TOOLKIT_NO_CPR": "1",  # no cursor-position request the test would have to answer
    }
    child = pexpect.spawn(
        sys.executable,
        ["-c", CHILD, str(articles), str(tmp_path / "index")],
        env=env,
        encoding="utf-8",
        dimensions=(40, 120),
        timeout=60,
    )
    term = Terminal(child)
    try:
        term.expect("passages from 2 articles")

        answer = term.ask("When does the withdrawal end?", "[1] score")
        assert "searching for" not in answer
        term.expect("pullout.txt:")
        follow = term.ask("who led them?", "searching for: who led them? withdrawal end")
        assert "[1] score" in term.expect("[1] score") and follow

        assert "1 passage per answer" in term.ask("/k 1", "per answer")
        term.ask("Who led the contingent?", "[1] score")
        term.expect("Serdyukov")

        term.ask("/sources", "2 articles, ")
        term.expect("fuel.md (1 passage)")
        term.expect("pullout.txt (")

        opened = term.ask("/open 1", "▶ [1] lines")
        assert "Troops leave Kazakhstan" in opened  # the article's headline heads the view
        term.expect("Serdyukov")

        whole = term.ask("/article 1", "▶ [1] lines")
        assert "(passages 1-" in whole

        term.ask("/mode bm25", "mode: bm25")
        term.ask("fuel prices", "[1] score")
        term.expect("fuel.md:")

        term.ask("/forget", "conversation forgotten")
        afresh = term.ask("who stormed them?", "[1] score")
        assert "searching for" not in afresh  # nothing to lean on after /forget

        term.ask("/frobnicate", "unknown command /frobnicate; /help lists the commands")
        term.ask("/k zero", "usage: /k N")
        term.ask("/open 7", "usage: /open N")
        term.ask("/help", "/article N")

        term.expect("ask>")
        child.send("half typed quest")
        term.expect("half typed quest")
        child.sendcontrol("c")  # drops the line, the chat goes on
        term.ask("/k 2", "2 passages per answer")

        term.expect("ask>")
        child.sendcontrol("d")
        child.expect(pexpect.EOF, timeout=60)
        term.raw += child.before or ""
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, term.plain()[-1500:]
    assert "Traceback" not in term.plain()
    history = (data_home / "newsqa" / "history").read_text(encoding="utf-8")
    assert "+When does the withdrawal end?" in history and "+/k 1" in history
    assert "half typed" not in history


def test_without_a_terminal_lines_are_read_from_stdin(articles, tmp_path):
    env = {**os.environ, "QA_MODEL": "hash", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(articles), str(tmp_path / "index")],
        input="/k 1\nfuel prices\nand the police?\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "1 passage per answer" in done.stdout and "[1] score" in done.stdout and "[2] score" not in done.stdout
    assert "searching for: the police? fuel prices" in done.stdout
    assert not (tmp_path / "data" / "newsqa").exists()  # no history without a terminal


# -- in-process, through a prompt_toolkit pipe ---------------------------------------------------------------


@pytest.fixture
def retriever(articles, tmp_path, monkeypatch):
    monkeypatch.setenv("QA_MODEL", "hash")
    return Retriever.open(docs=articles, index=tmp_path / "index")


def chat(retriever, text: str, capsys, **options) -> tuple[int, str]:
    with create_pipe_input() as pipe:
        pipe.send_text(text)
        pipe.close()  # then end of input, as Ctrl-D
        code = run_repl(retriever, input=pipe, output=DummyOutput(), **options)
    return code, capsys.readouterr().out


def test_history_falls_back_to_memory_with_one_warning(retriever, tmp_path, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    code, out = chat(retriever, "/k 2\n/quit\n", capsys, history_file=blocker / "history")
    assert code == 0
    warnings = [line for line in out.splitlines() if line.startswith("warning:")]
    reason = f"File exists: {blocker}"  # mkdir of its folder fails
    assert warnings == [f"warning: cannot keep history in {blocker / 'history'} ({reason}); it lasts this session only"]
    assert "2 passages per answer" in out


def test_history_file_is_created_with_its_folders(retriever, tmp_path, capsys):
    history = tmp_path / "deep" / "er" / "history"
    code, out = chat(retriever, "fuel prices\n", capsys, history_file=history)
    assert code == 0 and "[1] score" in out
    assert "+fuel prices" in history.read_text(encoding="utf-8")


def test_default_history_path_follows_xdg_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_history_path() == tmp_path / "data" / "newsqa" / "history"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_history_path() == tmp_path / "home" / ".local" / "share" / "newsqa" / "history"


def test_ctrl_c_drops_the_line_and_k_mode_apply(retriever, tmp_path, capsys):
    text = "When does the withdrawal end?\x03/k 1\n/mode dense\nWhen does the withdrawal end?\n/quit\n"
    code, out = chat(retriever, text, capsys, history_file=tmp_path / "history")
    assert code == 0
    assert "1 passage per answer" in out and "mode: dense" in out
    assert out.count("[1] score") == 1 and "[2] score" not in out  # only the question after /k 1 was asked
    # dense: the reader's score, then the cosine it was read for (no BM25 part)
    assert re.search(r"\[1\] score [01]\.\d{3} \(cosine -?\d\.\d\d\)  Troops leave Kazakhstan", out), out


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/open 1", "no passages yet: ask a question first"),
        ("/article", "no passages yet: ask a question first"),
        ("/k", "usage: /k N, a whole number from 1 to 1000 (now 3)"),
        ("/k 0", "usage: /k N, a whole number from 1 to 1000 (now 3)"),
        ("/k 1001", "usage: /k N, a whole number from 1 to 1000 (now 3)"),
        ("/mode", "usage: /mode hybrid|dense|bm25 (now hybrid)"),
        ("/mode fast", "usage: /mode hybrid|dense|bm25 (now hybrid)"),
        ("/", "unknown command /; /help lists the commands"),
        ("/MODE bm25", "mode: bm25"),
    ],
)
def test_bad_commands_get_one_line(retriever, tmp_path, capsys, line, message):
    code, out = chat(retriever, line + "\n", capsys, history_file=tmp_path / "history")
    assert code == 0
    assert out.splitlines()[1:] == [message]


def test_open_and_article_bounds(retriever, tmp_path, capsys):
    text = "fuel prices\n/open 4\n/open x\n/article 1 2\n/article 3\n"
    code, out = chat(retriever, text, capsys, history_file=tmp_path / "history", k=3)
    assert code == 0
    assert out.count("usage: /open N, a passage of the last answer from 1 to 3") == 2
    assert "usage: /article N, a passage of the last answer from 1 to 3" in out
    assert "▶ [3] lines" in out


class BrokenRetriever:
    """Passes for a retriever until asked a question: then the index turns out damaged."""

    document_count = 0

    def __len__(self) -> int:
        return 0

    def search(self, question, k=3, mode="hybrid", **filters):
        raise IndexDamagedError("the index at /x is damaged: vectors.faiss is truncated")


def test_library_errors_print_one_line_and_the_chat_goes_on(tmp_path, capsys):
    code, out = chat(BrokenRetriever(), "why?\n/k 2\n", capsys, history_file=tmp_path / "history")
    assert code == 0
    assert out.splitlines()[1:] == [
        "error: the index at /x is damaged: vectors.faiss is truncated",
        "2 passages per answer",
    ]


def test_article_escapes_are_shown_not_run(articles, tmp_path, capsys, monkeypatch):
    title = "Riot \x1b]0;PWNED\x07report"
    body = "Rioters set \x1b[31mcars\x1b[0m ablaze in the square.\x1b[2J Police fired \u202etear gas\u202c at them.\x07"
    (articles / "riot.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    monkeypatch.setenv("QA_MODEL", "hash")
    retriever = Retriever.open(docs=articles, index=tmp_path / "index")
    text = "rioters set cars ablaze police tear gas\n/open 1\n/article 1\n/sources\n"
    code, out = chat(retriever, text, capsys, history_file=tmp_path / "history", k=1)
    assert code == 0
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]", out), "nothing reaches the terminal raw"
    assert out.count("Riot \\x1b]0;PWNED\\x07report") >= 3  # the answer, /open and /article headers, /sources
    assert out.count("Rioters set \\x1b[31mcars\\x1b[0m ablaze") == 3
    assert out.count("Police fired \\u202etear") == 3 and out.count("\\u202c") == 3 and out.count("them.\\x07") == 3


def test_filters_narrow_the_answers_and_are_shown(retriever, tmp_path, capsys):
    text = "/source fuel\nWho stormed buildings?\n/filters\n/filters off\n/since 2022-01-01\n/until 2021-01-01\n"
    code, out = chat(retriever, text, capsys, history_file=tmp_path / "history", k=3)
    assert code == 0
    lines = out.splitlines()
    assert "filters: source contains 'fuel'" in lines
    assert "fuel.md" in out and "pullout.txt" not in out  # only the article whose path holds "fuel"
    assert lines.count("filters: none") == 1  # after /filters off
    assert "filters: since 2022-01-01" in lines
    assert "error: /since 2022-01-01 is after /until 2021-01-01; nothing could match" in lines


def test_bad_dates_and_filter_usage_get_one_line(retriever, tmp_path, capsys):
    code, out = chat(
        retriever, "/since yesterday\n/until 2022-02-30\n/filters on\n", capsys, history_file=tmp_path / "h"
    )
    assert out.splitlines()[1:] == [
        "error: /since must be a date as YYYY-MM-DD, got 'yesterday'",
        "error: /until must be a date as YYYY-MM-DD, got '2022-02-30'",
        "usage: /filters, or /filters off to drop them all",
    ]


def test_cite_and_markdown_print_the_last_answer(retriever, tmp_path, capsys):
    text = "/cite\nWhen does the withdrawal end?\n/cite 1\n/cite 9\n/markdown\n"
    code, out = chat(retriever, text, capsys, history_file=tmp_path / "history", k=2)
    assert code == 0
    assert "no passages yet: ask a question first" in out
    cited = [line for line in out.splitlines() if line.startswith("[1] “")]  # no publisher or date: the quote first
    assert len(cited) == 1 and cited[0].endswith("pullout.txt, line 5)") and "(Troops leave Kazakhstan; " in cited[0]
    assert "usage: /cite N, a passage of the last answer from 1 to 2" in out
    assert "## When does the withdrawal end?" in out and "   > — " in out


@pytest.mark.parametrize(("word", "effect"), [("clear", "conversation forgotten"), ("Reset", "conversation forgotten")])
def test_a_command_word_typed_alone_is_a_command_not_a_follow_up(retriever, tmp_path, capsys, word, effect):
    code, out = chat(retriever, f"fuel prices\n{word}\nand the police?\n", capsys, history_file=tmp_path / "h")
    assert code == 0
    assert "(taken as /forget; commands start with /, /help lists them)" in out and effect in out
    assert "searching for:" not in out  # the follow-up after it starts afresh: nothing was glued to "clear"


def test_markdown_of_a_follow_up_is_headed_by_the_question_as_typed(retriever, tmp_path, capsys):
    code, out = chat(retriever, "fuel prices\nand the police?\n/markdown\n", capsys, history_file=tmp_path / "h")
    assert code == 0
    assert "## and the police?" in out.splitlines()
    assert "*searched for: the police? fuel prices*" in out.splitlines()  # "January" of the answer is no name
