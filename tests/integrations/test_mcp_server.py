"""`ask.py mcp`: the server run as an agent runs it, a subprocess driven by the MCP SDK's own stdio client.

Every passage it returns is the exact slice of its file; a bad question is a tool error and the server goes
on; stdout carries nothing but protocol messages, build messages go to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import SEEDS
from framework_checks import QUESTION, source_slice

from qa.inputs import MODES

ROOT = Path(__file__).resolve().parents[2]
TOOLS = {"search", "read_passage", "list_sources"}


# a tool call: its name and arguments, or a function of the results so far that gives them
Call = tuple[str, dict[str, Any] | Callable[[list[Any]], dict[str, Any]]]


def serve_and_call(seeds: Path, index: Path, errlog: Path, calls: list[Call], extra: tuple[str, ...] = ()) -> dict:
    """Start `ask.py mcp`, list its tools, make the calls in order; the tools and each call's result."""
    from mcp import ClientSession, StdioServerParameters, stdio_client

    env = {key: os.environ[key] for key in ("XDG_CACHE_HOME", "HF_HUB_OFFLINE")}
    server = StdioServerParameters(
        command=sys.executable,
        args=[str(ROOT / "ask.py"), "mcp", "--docs", str(seeds), "--index", str(index), "--model", "hash", *extra],
        env=env,
        cwd=str(index.parent),
    )
    faults: list[Exception] = []  # lines on stdout that are not protocol messages come here

    async def on_message(message: object) -> None:
        if isinstance(message, Exception):
            faults.append(message)

    async def session() -> dict:
        with errlog.open("w", encoding="utf-8") as err:
            async with stdio_client(server, errlog=err) as (read, write):
                async with ClientSession(read, write, message_handler=on_message) as client:
                    with anyio.fail_after(60):
                        await client.initialize()
                        tools = (await client.list_tools()).tools
                        results: list[Any] = []
                        for name, arguments in calls:
                            given = arguments(results) if callable(arguments) else arguments
                            results.append(await client.call_tool(name, given))
        return {"tools": {tool.name: tool for tool in tools}, "results": results, "faults": faults}

    return anyio.run(session)


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> dict:
    """One server for the module (a start is a second or two): its tools and the results of a few calls."""
    import shutil

    folder = tmp_path_factory.mktemp("mcp")
    seeds = folder / "seeds"
    shutil.copytree(SEEDS, seeds)
    calls = [
        ("search", {"question": QUESTION, "k": 4}),
        ("search", {"question": "   "}),
        ("search", {"question": QUESTION, "since": "2022-13-01"}),
        ("read_passage", {"passage_id": "no-such-passage"}),
        ("list_sources", {}),
        ("search", {"question": QUESTION, "k": 1, "mode": "bm25", "source": "dawn"}),
        ("read_passage", lambda results: {"passage_id": _top(results[0])["id"], "context": 1}),
        ("read_passage", lambda results: {"passage_id": _top(results[0])["id"]}),
        ("search", {"question": QUESTION, "k": 99}),
        ("read_passage", lambda results: {"passage_id": _top(results[0])["id"], "context": 99}),
    ]
    found = serve_and_call(seeds, folder / "index", folder / "stderr.log", calls)
    return {**found, "seeds": seeds, "stderr": (folder / "stderr.log").read_text(encoding="utf-8")}


def _top(result) -> dict:
    return result.structured_content["passages"][0]


def structured(result) -> dict:
    """A tool result's JSON, checked to be the same in the structured part and the text part."""
    assert not result.is_error, result.content
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


def test_the_tools_and_their_input_schemas(served):
    tools = served["tools"]
    assert set(tools) == TOOLS
    search = tools["search"].input_schema
    assert search["required"] == ["question"]
    assert set(search["properties"]) == {"question", "k", "mode", "source", "since", "until"}
    assert search["properties"]["k"]["default"] == 3 and search["properties"]["k"]["minimum"] == 1
    assert search["properties"]["mode"]["enum"] == list(MODES) and search["properties"]["mode"]["default"] == "hybrid"
    passage = tools["read_passage"].input_schema
    assert passage["required"] == ["passage_id"] and passage["properties"]["context"]["default"] == 1
    assert tools["list_sources"].input_schema["properties"] == {}
    assert all(tool.description and tool.annotations.read_only_hint for tool in tools.values())


def test_search_returns_verbatim_passages_as_the_json_front_does(served):
    answer = structured(served["results"][0])
    assert answer["question"] == QUESTION and len(answer["passages"]) == 4
    for passage in answer["passages"]:
        assert passage["text"] == source_slice(passage["source"]["path"], passage["start"], passage["end"])
        assert passage["highlight"] is None or passage["start"] <= passage["highlight"]["start"] < passage["end"]
        assert {"id", "line_start", "line_end", "score", "source", "also_in"} <= set(passage)
    assert {"answered", "confidence", "values", "answer", "warnings"} <= set(answer)
    if answer["answer"] is not None:
        top = answer["passages"][0]
        assert answer["answer"]["text"] == source_slice(
            top["source"]["path"], answer["answer"]["start"], answer["answer"]["end"]
        )
    filtered = structured(served["results"][5])
    assert [p["source"]["publisher"] for p in filtered["passages"]] == ["Dawn"]


def test_a_library_error_is_a_one_line_tool_error_and_the_server_goes_on(served):
    empty, bad_date, unknown = served["results"][1], served["results"][2], served["results"][3]
    for result, said in ((empty, "the question is empty"), (bad_date, "since must be a date as YYYY-MM-DD")):
        assert result.is_error and said in result.content[0].text
        assert "\n" not in result.content[0].text and "Traceback" not in result.content[0].text
    assert unknown.is_error and "no passage with id 'no-such-passage'" in unknown.content[0].text
    assert not served["results"][4].is_error and not served["results"][5].is_error  # answered after the errors
    assert "Traceback" not in served["stderr"]


def test_out_of_range_numbers_are_one_line_tool_errors_though_the_schema_shows_the_bounds(served):
    too_many, too_wide = served["results"][8], served["results"][9]
    assert too_many.is_error and too_many.content[0].text.endswith("k must be between 1 and 50, got 99")
    assert too_wide.is_error and too_wide.content[0].text.endswith(
        "context must be a whole number from 0 to 10, got 99"
    )
    for result in (too_many, too_wide):
        assert "\n" not in result.content[0].text and "pydantic" not in result.content[0].text
    context = served["tools"]["read_passage"].input_schema["properties"]["context"]
    assert (context["minimum"], context["maximum"]) == (0, 10)


def test_list_sources_lists_every_indexed_article(served):
    listed = structured(served["results"][4])
    files = sorted(p.name for p in served["seeds"].iterdir())
    assert listed["count"] == len(files) == len(listed["documents"])
    assert sorted(Path(d["path"]).name for d in listed["documents"]) == files
    for document in listed["documents"]:
        assert document["passages"] > 0 and {"title", "publisher", "published", "byline"} <= set(document)


def test_read_passage_gives_the_passage_and_its_neighbours_verbatim(served):
    top = structured(served["results"][0])["passages"][0]
    around = structured(served["results"][6])
    assert around["id"] == top["id"] and around["source"]["path"] == top["source"]["path"]
    current = [p for p in around["passages"] if p["current"]]
    assert [(p["id"], p["text"], p["start"]) for p in current] == [(top["id"], top["text"], top["start"])]
    assert 1 <= len(around["passages"]) <= 3
    for passage, following in zip(around["passages"], around["passages"][1:], strict=False):
        assert passage["end"] <= following["start"]
    for passage in around["passages"]:
        assert passage["text"] == source_slice(around["source"]["path"], passage["start"], passage["end"])
    assert structured(served["results"][7]) == around  # context=1 is the default


def test_stdout_carries_only_protocol_messages_and_build_messages_go_to_stderr(served):
    assert not served["faults"]
    assert "Index ready" in served["stderr"]


def test_stray_output_while_the_index_opens_goes_to_stderr(capfd):
    from qa.fronts.mcp_server import _stdout_to_stderr

    with _stdout_to_stderr():
        print("from python")
        os.write(1, b"from native code\n")
    print("after")
    out, err = capfd.readouterr()
    assert out == "after\n" and err == "from python\nfrom native code\n"


def test_the_modes_offered_are_the_librarys():
    from typing import get_args

    from qa.fronts.mcp_server import Mode

    assert get_args(Mode) == MODES


def test_a_server_over_a_milvus_mirror_answers_as_the_default_one(served, tmp_path):
    calls: list[Call] = [("search", {"question": QUESTION, "k": 4})]
    store = ("--store", f"milvus:{tmp_path / 'news.db'}")
    mirrored = serve_and_call(served["seeds"], tmp_path / "index", tmp_path / "stderr.log", calls, store)
    assert structured(mirrored["results"][0]) == structured(served["results"][0])


def test_the_mcp_command_takes_the_same_open_options(cli, tmp_path):
    """`ask.py mcp` opens a corpus as every front does (OpenOptions): a bad option is one line, exit 2, before
    anything is built or served."""
    for argv, says in (
        (["--backend", "bogus"], "unknown --backend 'bogus'"),
        (["--store", "redis://x"], "not a Milvus store"),
    ):
        code, out, err = cli("mcp", "--index", str(tmp_path / "idx"), *argv)
        assert code == 2 and says in err and not out and not (tmp_path / "idx").exists(), (argv, err)
