"""The command line: the JSON contract, the terminal view and exit codes (with the fast hash model)."""

from __future__ import annotations

import json
import os
import re
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.usefixtures("hash_model")


def ask_args(docs, tmp_path, *extra):
    return ["--docs", str(docs), "--index", str(tmp_path / "idx"), *extra]


def test_json_contract(cli, seeds, tmp_path):
    code, out, err = cli("When did the withdrawal finish?", "--json", *ask_args(seeds, tmp_path))
    assert code == 0
    result = json.loads(out)
    keys = {"question", "answered", "confidence", "evidence", "disagree", "values", "answer", "passages", "warnings"}
    assert set(result) == keys | {"empty_reason"} and result["empty_reason"] is None
    assert result["question"] == "When did the withdrawal finish?" and isinstance(result["answered"], bool)
    if result["answer"] is not None:  # a slice of the top passage's highlighted sentence
        top = result["passages"][0]
        assert top["highlight"]["start"] <= result["answer"]["start"] < result["answer"]["end"]
        assert result["answer"]["end"] <= top["highlight"]["end"]
        source = open(top["source"]["path"], encoding="utf-8").read()
        assert source[result["answer"]["start"] : result["answer"]["end"]] == result["answer"]["text"]
    assert 0.0 <= result["confidence"] <= 1.0
    assert len(result["passages"]) == 3
    for rank, passage in enumerate(result["passages"], start=1):
        expected = {"rank", "score", "text", "start", "end", "line_start", "line_end", "source", "highlight"}
        assert expected <= set(passage)
        assert passage["rank"] == rank and isinstance(passage["score"], float)
        assert set(passage["source"]) == {"path", "id", "title", "publisher", "published", "byline", "url"}
        assert passage["source"]["path"].startswith(str(seeds) + "/")
        text = open(passage["source"]["path"], encoding="utf-8").read()
        assert text[passage["start"] : passage["end"]] == passage["text"]
        mark = passage["highlight"]
        assert passage["start"] <= mark["start"] < mark["end"] <= passage["end"], "the highlight lies inside"
        assert text[mark["start"] : mark["end"]].strip() == text[mark["start"] : mark["end"]]
    assert "Indexing" in err and "Index ready" in err


def test_quiet_build_prints_nothing_on_stderr(cli, corpus, tmp_path):
    code, out, err = cli("fuel", "--quiet", "--json", *ask_args(corpus, tmp_path))
    assert code == 0 and err == ""


def test_terminal_view_shows_rank_source_lines_and_text(cli, corpus, tmp_path):
    code, out, _ = cli("police vehicles", "--top", "1", "--fast", *ask_args(corpus, tmp_path))
    assert code == 0
    lines = out.splitlines()
    assert re.fullmatch(r"\[1\] score [01]\.\d{3} \(cosine -?\d\.\d\d, bm25 \d+\.\d\)", lines[0]), lines[0]
    assert lines[1].strip() == f"{corpus}/world/b.md:1-3"
    # piped, so no styles: the highlighted sentence is marked in words, between » and «
    assert "Protests started after a sharp rise in fuel prices. »Police vehicles were\n    set ablaze.«" in out


def test_piped_output_names_the_answer_and_marks_no_sentence_of_an_abstention(cli, corpus, tmp_path):
    code, out, _ = cli("When did the protests start?", "--top", "2", *ask_args(corpus, tmp_path))
    assert code == 0
    result = json.loads(cli("When did the protests start?", "--top", "2", "--json", *ask_args(corpus, tmp_path))[1])
    if result["answer"] is not None and result["answered"]:
        assert f"Answer: {result['answer']['text']} [1]" in out.splitlines()
    assert out.count("»") == out.count("«") == (len(result["passages"]) if result["answered"] else 0)
    code, out, _ = cli("zzz qqq vvv", "--top", "2", "--mode", "bm25", *ask_args(corpus, tmp_path))
    assert "»" not in out and "Answer:" not in out


def test_article_escapes_are_shown_not_run_and_json_stays_exact(cli, corpus, tmp_path):
    hostile = "Shops closed.\x1b]0;PWNED\x07\x1b[2J Police vehicles were set \x1b[31mablaze\x1b[0m in \u202eAlmaty.\n"
    (corpus / "world" / "b.md").write_text("# Fuel prices\n\n" + hostile, encoding="utf-8")
    code, out, _ = cli("police vehicles ablaze", "--top", "1", *ask_args(corpus, tmp_path))
    assert code == 0
    assert "Shops closed.\\x1b]0;PWNED\\x07\\x1b[2J Police" in out and "\\u202eAlmaty." in out
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]", out)
    code, out, _ = cli("police vehicles ablaze", "--top", "1", "--json", *ask_args(corpus, tmp_path))
    [passage] = json.loads(out)["passages"]
    assert hostile.strip() in passage["text"]
    raw = open(passage["source"]["path"], encoding="utf-8").read()
    assert raw[passage["start"] : passage["end"]] == passage["text"]


def test_questions_file_answers_each_line_in_order_with_ids(cli, corpus, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        '{"id": "a", "question": "fuel prices"}\n\n{"question": "troops leave"}\n{"id": 7, "question": "January 19"}\n',
        encoding="utf-8",
    )
    code, out, _ = cli("--questions", str(questions), "--json", "-k", "1", *ask_args(corpus, tmp_path))
    assert code == 0
    results = [json.loads(line) for line in out.splitlines()]
    assert [r.get("id", "-") for r in results] == ["a", "-", 7]
    assert [r["question"] for r in results] == ["fuel prices", "troops leave", "January 19"]
    assert list(results[0])[0] == "id"


def test_passages_lists_every_indexed_passage(cli, corpus, tmp_path):
    code, out, _ = cli("--passages", *ask_args(corpus, tmp_path))
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert {"id", "path", "source_id", "start", "end", "text"} <= set(rows[0])
    assert {r["path"] for r in rows} == {f"{corpus}/a.txt", f"{corpus}/world/b.md"}
    for row in rows:
        assert open(row["path"], encoding="utf-8").read()[row["start"] : row["end"]] == row["text"]


def test_bad_files_warn_but_do_not_stop_the_build(cli, corpus, tmp_path):
    (corpus / "latin.txt").write_bytes("Caf\xe9 owners protested fuel prices.".encode("latin-1"))
    (corpus / "empty.txt").write_text("")
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02")
    code, out, err = cli("café owners", "--json", "-k", "1", *ask_args(corpus, tmp_path))
    assert code == 0
    assert json.loads(out)["passages"][0]["source"]["path"].endswith("latin.txt")
    for line in (
        "warning: {0}/latin.txt: not valid UTF-8; read as cp1252",
        "warning: {0}/empty.txt: skipped: empty file",
        "warning: {0}/binary.txt: skipped: binary file",
    ):
        assert line.format(corpus) in err.splitlines()


def test_damaged_index_is_rebuilt_with_a_message(cli, corpus, tmp_path):
    cli("fuel", *ask_args(corpus, tmp_path))
    gen = tmp_path / "idx" / (tmp_path / "idx" / "CURRENT").read_text().strip()
    data = (gen / "vectors.faiss").read_bytes()
    (gen / "vectors.faiss").write_bytes(data[: len(data) // 2])
    code, out, err = cli("fuel", "--json", *ask_args(corpus, tmp_path))
    assert code == 0 and json.loads(out)["passages"]
    assert "the existing index is unusable (vectors.faiss is truncated or altered), rebuilding it" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["", "--docs", "{docs}"], "error: the question is empty"),
        (["   ", "--docs", "{docs}"], "error: the question is empty"),
        # bytes that are not UTF-8 reach argv as lone surrogates
        (["when \udcff did", "--docs", "{docs}"], "error: the question is not valid text in the terminal's encoding"),
        (["q", "--docs", "{tmp}/missing"], "error: no such file or folder: {tmp}/missing"),
        (["q", "--docs", "{tmp}/emptydir"], "error: no readable documents in {tmp}/emptydir"),
        (["q", "--top", "0", "--docs", "{docs}"], "error: invalid value for '--top'"),
        (["q", "--mode", "sparse", "--docs", "{docs}"], "error: unknown --mode 'sparse'"),
        (["q", "--bogus"], "error: no such option: --bogus"),
        (["--docs", "{docs}"], "error: give one question"),
        (["q", "--passages", "--docs", "{docs}"], "error: give one question"),
        (["--questions", "{tmp}/nope.jsonl", "--docs", "{docs}"], "error: no such file: {tmp}/nope.jsonl"),
        (["--questions", "{tmp}/bad.jsonl", "--docs", "{docs}"], "error: {tmp}/bad.jsonl:2: not JSON"),
        (["q", "--model", "{tmp}", "--docs", "{docs}"], "error: not a sentence-transformers model folder: {tmp}"),
        (["q", "--docs", "{docs}", "--index", "{tmp}/bad.jsonl"], "error: cannot use {tmp}/bad.jsonl as an index"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(cli, corpus, tmp_path, argv, message):
    (tmp_path / "emptydir").mkdir()
    (tmp_path / "bad.jsonl").write_text('{"question": "ok"}\n{oops\n', encoding="utf-8")
    argv = [a.format(docs=corpus, tmp=tmp_path) for a in argv]
    if "--index" not in argv:
        argv += ["--index", str(tmp_path / "idx")]
    code, out, err = cli(*argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(message.format(tmp=tmp_path)), err
    assert "Traceback" not in err


def test_unexpected_errors_are_one_line_exit_1_and_traceback_only_with_debug(cli, corpus, tmp_path, monkeypatch):
    import qa.search.retriever as retrieve

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(retrieve.Retriever, "open", boom)
    code, _, err = cli("q", *ask_args(corpus, tmp_path))
    assert (code, err) == (1, "error: unexpected RuntimeError: disk on fire\n")
    code, _, err = cli("q", "--debug", *ask_args(corpus, tmp_path))
    assert code == 1 and "Traceback" in err and err.endswith("error: unexpected RuntimeError: disk on fire\n")


def help_rows(out: str) -> list[str]:
    """The lines of a help screen without typer's box drawing, each run of spaces as one."""
    return [" ".join(re.sub(r"[│╭╮╰╯─]", " ", line).split()) for line in out.splitlines()]


QUESTION_OPTIONS = (
    "--top -k K [1<=x<=1000] How many passages to show. [default: 3]",
    "--mode hybrid|dense|bm25 Retrieval: hybrid (BM25 + dense, fused), dense or bm25. [default: hybrid]",
    "--json Print JSON (one object per question).",
    "--cite Print each passage as its one-line citation (--json has it as `citation`).",
    "--format text|markdown text: for the terminal; markdown: the answer as Markdown notes. [default: text]",
    "--docs PATH Folder of .txt/.md/.html articles or a .jsonl file. (default: the seed articles)",
    "--index DIR Index folder. (default: index/<corpus>-<hash>/)",
    '--questions FILE Answer each {"id"?, "question"} line of a .jsonl file.',
    "--passages Print every indexed passage as JSON lines.",
    "--explain FILE Show what article extraction keeps and drops from FILE, and why.",
    "--source TEXT Only articles whose publisher, byline, title or path contains TEXT.",
    "--since YYYY-MM-DD Only articles published on or after this date.",
    "--rebuild Rebuild the index from scratch.",
    "--quiet -q No build messages or progress bar.",
    "--debug Show tracebacks on errors.",
    "--help -h Show this message and exit.",
)


def test_help_lists_the_commands_and_every_option_flags_without_a_value(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one row per option
    code, out, _ = cli("--help")
    assert code == 0
    rows = help_rows(out)
    assert rows[1] == "Usage: ask.py [OPTIONS] [QUESTION...]"
    assert rows[2] == "ask.py COMMAND [OPTIONS] (COMMAND: chat, serve, index, mcp)"
    for row in QUESTION_OPTIONS:
        assert row in rows, row
    commands = rows[rows.index("Commands") + 1 : rows.index("Commands") + 5]
    assert commands == [
        "chat Chat in the terminal, the model and index loaded once.",
        "serve Serve the HTTP API and the chat page (http://127.0.0.1:8000/).",
        "index Show, verify and update the index; add or remove articles.",
        "mcp Serve the search as tools for AI agents (Model Context Protocol).",
    ]
    assert not re.search(r"<(bool|str|path|int|text)", out), "no type placeholders: flags take no value"
    assert "--host" not in out and "--port" not in out and "--chat" not in out, "serve's and chat's own"


def test_help_lines_fit_a_narrow_terminal_too(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = cli("-h")
    assert code == 0 and max(len(line) for line in out.splitlines()) <= 80
    assert "│ chat   Chat in the terminal, the model and index loaded once." in out, "one line per command"


@pytest.mark.parametrize(
    ("argv", "usage", "present", "absent"),
    [
        (["chat", "--help"], "Usage: ask.py chat [OPTIONS]", ["--top", "--mode", "--docs", "--rebuild"], ["--host"]),
        (["serve", "-h"], "Usage: ask.py serve [OPTIONS]", ["--host", "--port", "--mode", "--docs"], ["--top"]),
        (["index", "--help"], "Usage: ask.py index [OPTIONS] COMMAND [ARGS]...", ["status", "verify"], ["--top"]),
        (["index", "add", "--help"], "Usage: ask.py index add [OPTIONS] {FILE...}", ["--backend NAME"], ["--top"]),
        (["mcp", "--help"], "Usage: ask.py mcp [OPTIONS]", ["--docs"], ["--top", "--host"]),
    ],
)
def test_each_command_has_its_own_help(cli, monkeypatch, argv, usage, present, absent):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = cli(*argv)
    assert (code, err) == (0, "")
    rows = help_rows(out)
    assert usage in rows, rows[:3]
    for option in present:
        assert any(row.startswith(option) or f" {option}" in row for row in rows), option
    for option in absent:
        assert option not in out, option
    for option in ("--json", "--questions", "--passages", "--explain", "--cite", "--format", "--since"):
        assert option not in out or argv[0] == "index", option
    assert not re.search(r"<(bool|str|path|int|text)", out)


def test_chat_and_serve_usage_is_theirs_and_names_the_question_escape(cli):
    assert cli("serve", "--port", "0")[2] == (
        "error: invalid value for '--port': 0 is not in the range 1<=x<=65535 (see ask.py serve --help)\n"
    )
    code, out, err = cli("chat", "about", "troops")
    assert (code, out) == (2, "")
    assert err == (
        "error: got unexpected extra argument(s) (about troops); to ask a question that starts with 'chat',"
        " put -- first: ask.py -- chat ...\n"
    )


def test_an_unquoted_question_is_one_question(cli, seeds, tmp_path):
    code, out, err = cli("How", "many", "troops", "were", "sent", "--json", "-k", "1", *ask_args(seeds, tmp_path))
    assert code == 0, err
    assert json.loads(out)["question"] == "How many troops were sent"
    code, out, _ = cli("--json", "-q", "-k", "1", *ask_args(seeds, tmp_path), "--", "chat")
    assert code == 0 and json.loads(out)["question"] == "chat", "after --, a command's name is the question"


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["q", "--zzz"], "error: no such option: --zzz (see ask.py --help)"),
        (["q", "--top"], "error: option '--top' requires an argument (see ask.py --help)"),
        (
            ["q", "--top", "x"],
            "error: invalid value for '--top' / '-k': 'x' is not a whole number (see ask.py --help)",
        ),
        (["index", "add"], "error: missing argument 'FILE...' (see ask.py index add --help)"),
        (["index", "update", "--zzz"], "error: no such option: --zzz (see ask.py index update --help)"),
    ],
)
def test_usage_errors_are_one_lower_case_line_naming_where_to_look(cli, argv, line):
    code, out, err = cli(*argv)
    assert (code, out, err) == (2, "", line + "\n")


def test_index_alone_shows_its_help(cli):
    code, out, err = cli("index")
    assert code == 0 and err == "" and "Usage: ask.py index [OPTIONS] COMMAND [ARGS]..." in out


def test_explain_of_a_missing_file_names_no_corpus_option(cli, tmp_path):
    code, out, err = cli("--explain", str(tmp_path / "missing.txt"))
    assert (code, out) == (2, "")
    assert (
        err
        == f"error: no such file or folder: {tmp_path}/missing.txt (expected one article file: .txt, .md or .html)\n"
    )


def test_a_missing_corpus_names_docs(cli, tmp_path):
    code, _, err = cli("q", "--docs", str(tmp_path / "nope"), "--index", str(tmp_path / "idx"))
    assert code == 2
    assert err == (
        f"error: no such file or folder: {tmp_path}/nope"
        " (--docs takes a folder of .txt/.md/.html files or a .jsonl file)\n"
    )
    code, _, err = cli("index", "status", "--docs", str(tmp_path / "nope"))
    assert code == 2 and err.startswith(f"error: no such file or folder: {tmp_path}/nope (--docs takes")


def test_reversed_dates_are_a_usage_error(cli, seeds, tmp_path):
    argv = ("q", "--since", "2022-02-01", "--until", "2022-01-01", *ask_args(seeds, tmp_path))
    assert cli(*argv) == (2, "", "error: --since 2022-02-01 is after --until 2022-01-01\n")
    assert not (tmp_path / "idx").exists(), "refused before any work"


def test_filters_that_match_nothing_say_why(cli, seeds, corpus, tmp_path):
    code, out, _ = cli("troops", "-q", "--source", "xyz", *ask_args(seeds, tmp_path))
    assert (code, out) == (0, "No passages found: no article's publisher, byline, title or path contains 'xyz'.\n")
    code, out, _ = cli("troops", "-q", "--since", "2023-01-01", "--until", "2023-12-31", *ask_args(seeds, tmp_path))
    assert out == (
        "No passages found: no article is dated between 2023-01-01 and 2023-12-31"
        " (the articles are dated 2022-01-13 to 2022-01-14).\n"
    )
    code, out, _ = cli(
        "troops", "-q", "--json", "--source", "Dawn", "--until", "2022-01-13", *ask_args(seeds, tmp_path)
    )
    result = json.loads(out)
    assert result["passages"] == [] and result["empty_reason"] == (
        "no article matching 'Dawn' is dated on or before 2022-01-13 (the matching article is dated 2022-01-14)"
    )
    where = ["--docs", str(corpus), "--index", str(tmp_path / "corpus-idx")]
    code, out, _ = cli("troops", "-q", "--since", "2022-01-01", *where)
    assert out == "No passages found: no article is dated on or after 2022-01-01 (2 articles have no date).\n"


def test_cite_prints_one_citation_line_per_passage(cli, seeds, tmp_path):
    question = ("How many troops did the CSTO send?", *ask_args(seeds, tmp_path), "-q")
    code, out, _ = cli(*question, "--cite")
    assert code == 0
    code, as_json, _ = cli(*question, "--json", "--cite")
    result = json.loads(as_json)
    assert as_json == cli(*question, "--json")[1], "--cite changes nothing in JSON: each passage has its citation"
    cited = [f"[{p['rank']}] {p['citation']['text']}" for p in result["passages"]]
    assert len(cited) == 3
    assert out.splitlines()[-4:] == [*cited, ""]
    assert cited[0].startswith("[1] ") and f"{seeds}/" in cited[0]


def test_format_markdown_prints_the_answer_as_markdown(cli, seeds, tmp_path):
    from qa import Retriever
    from qa.citations import markdown

    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "How many troops did the CSTO send?"}\n{"question": "fuel"}\n', "utf-8")
    code, one, _ = cli("How many troops did the CSTO send?", "--format", "markdown", "-q", *ask_args(seeds, tmp_path))
    assert code == 0
    code, both, _ = cli("--questions", str(questions), "--format", "markdown", "-q", *ask_args(seeds, tmp_path))
    retriever = Retriever.open(docs=seeds, index=tmp_path / "idx")
    first, second = (markdown(retriever.search(q)) for q in ("How many troops did the CSTO send?", "fuel"))
    assert one == first and first.startswith("## How many troops did the CSTO send?\n\n")
    assert both == first + "\n" + second
    assert cli("q", "--format", "html", *ask_args(seeds, tmp_path))[2] == (
        "error: unknown --format 'html'; choose one of: text, markdown\n"
    )


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_output_into_a_closed_pipe_is_not_an_error(seeds, tmp_path, extra):
    import os
    import subprocess
    import sys

    from conftest import ROOT

    script = (
        f"{sys.executable} {ROOT / 'ask.py'} 'fuel prices' -k 1000 -q --docs {seeds} "
        f"--index {tmp_path / 'idx'} {' '.join(extra)} | head -c 1 >/dev/null; echo ${{PIPESTATUS[0]}}"
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env={**os.environ}, timeout=120)
    assert done.stdout.strip() == "0", done.stderr
    assert "Traceback" not in done.stderr


def test_chat_subcommand_opens_the_repl_on_a_terminal(corpus, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    env = {**os.environ, "QA_MODEL": "hash", "PROMPT_TOOLKIT_NO_CPR": "1", "XDG_DATA_HOME": str(tmp_path / "data")}
    argv = ["ask.py", "chat", "-q", "--docs", str(corpus), "--index", str(tmp_path / "idx")]
    child = pexpect.spawn(sys.executable, argv, cwd=str(ROOT), env=env, encoding="utf-8", timeout=60)
    child.expect("Ask a question")
    child.sendline("fuel prices")
    child.expect("Protests started")
    child.expect("ask>")
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "fuel prices" in (tmp_path / "data" / "newsqa" / "history").read_text(encoding="utf-8")


def test_serve_subcommand_answers_over_http_with_follow_ups(corpus, tmp_path):
    import socket
    import subprocess
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "QA_MODEL": "hash"}
    argv = ["ask.py", "serve", "-q", "--port", str(port), "--docs", str(corpus), "--index", str(tmp_path / "idx")]
    server = subprocess.Popen(
        [sys.executable, *argv], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(base + "/health", timeout=1) as response:
                    health = json.loads(response.read())
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not start: " + server.stderr.read1().decode())
        assert health["status"] == "ok" and health["passages"] > 0
        body = json.dumps({"question": "and when did they start?", "context": ["fuel price protests"]}).encode()
        request = urllib.request.Request(base + "/search", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
        assert answer["question"] == "and when did they start?"
        assert "fuel" in answer["searched_for"].lower() and answer["passages"]
    finally:
        server.terminate()
        server.wait(timeout=10)
