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
    assert set(result) == keys
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
        assert set(passage["source"]) == {"path", "id", "title", "publisher", "published", "byline"}
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
    code, out, _ = cli("police vehicles", "--top", "1", *ask_args(corpus, tmp_path))
    assert code == 0
    lines = out.splitlines()
    assert re.fullmatch(r"\[1\] score [01]\.\d{3} \(cosine -?\d\.\d\d, bm25 \d+\.\d\)", lines[0]), lines[0]
    assert lines[1].strip() == f"{corpus}/world/b.md:1-3"
    assert "Protests started after a sharp rise in fuel prices. Police vehicles were set\n    ablaze." in out


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
        (["q", "--top", "0", "--docs", "{docs}"], "error: Invalid value for '--top'"),
        (["q", "--mode", "sparse", "--docs", "{docs}"], "error: unknown --mode 'sparse'"),
        (["q", "--bogus"], "error: No such option: --bogus"),
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


def test_help_lists_every_option(cli):
    code, out, _ = cli("--help")
    assert code == 0
    for option in (
        "--top",
        "--json",
        "--docs",
        "--index",
        "--model",
        "--mode",
        "--questions",
        "--passages",
        "--rebuild",
        "--quiet",
        "--debug",
    ):
        assert option in out


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
