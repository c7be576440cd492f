"""The HTTP API, served for real by uvicorn on a free localhost port over a hash-model index."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, get_args

import pytest
import uvicorn

from qa import BadInputError, Retriever
from qa.citations import markdown
from qa.embed.reference import HashEmbedder
from qa.fronts.server import SearchRequest, SearchResponse, create_app, serve, serving_app
from qa.inputs import MODES

ROOT = Path(__file__).resolve().parents[2]

ARTICLES = {
    "kazakhstan.txt": (
        "Troops leave Kazakhstan\n"
        "\n"
        "By Reuters\n"
        "\n"
        "Russia-led troops began to leave Kazakhstan on Thursday after a week in the country, officials said.\n"
        "About 2,500 troops were sent by the alliance to guard power plants and government buildings.\n"
        "\n"
        "The withdrawal will end on January 19, the alliance said in a statement on Thursday. Its commander\n"
        "told reporters that the mission had been completed and that no soldier had been hurt.\n"
        "\n"
        "Protests started after a sharp rise in fuel prices at the start of the year. Police vehicles were set\n"
        "ablaze in Almaty, and the government resigned within days as the unrest spread to other cities.\n"
        "\n"
        "The president thanked the leaders of the alliance for their quick help during the crisis and promised\n"
        "reforms, including a cap on fuel prices for six months and a new fund for the poorest regions.\n"
        "\n"
        "Rights groups asked for an independent inquiry into the deaths during the unrest, saying that\n"
        "many of the people detained had been beaten and denied access to lawyers for several days.\n"
    ),
    "wire/copy.txt": (
        "Unrest in Kazakhstan\n"
        "\n"
        "Protests started after a sharp rise in fuel prices at the start of the year. Police vehicles were set\n"
        "ablaze in Almaty, and the government resigned within days as the unrest spread to other cities.\n"
    ),
    "world/withdrawal.md": (
        "# Alliance starts withdrawal\n"
        "\n"
        "Some 2,000 troops were sent by the alliance to guard power plants and government buildings, the\n"
        "defence ministry said on Thursday. Officials said the last soldiers would fly home within ten days.\n"
    ),
    "sport/football.txt": (
        "Cup final ends in a draw\n"
        "\n"
        "The cup final ended in a goalless draw after extra time, and the title went to penalties.\n"
        "The home side won the shootout four goals to three in front of a full stadium.\n"
    ),
}

JSON_HEADERS = {"Content-Type": "application/json"}


def write_corpus(root: Path) -> Path:
    for name, text in ARTICLES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@contextmanager
def running_server(app: Any) -> Iterator[int]:
    """Serve `app` with uvicorn in a background thread on a free port; yields the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def call(
    port: int, method: str, path: str, body: Any = None, *, raw: bytes | None = None, headers: dict | None = None
) -> tuple[int, dict[str, str], Any]:
    """One request; returns status, headers (lower-case names) and the decoded JSON (or text) body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    sent_headers = dict(headers or {})
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        sent_headers.setdefault("Content-Type", "application/json")
    try:
        connection.request(method, path, body=data, headers=sent_headers)
        response = connection.getresponse()
        payload = response.read()
        received = {name.lower(): value for name, value in response.getheaders()}
    finally:
        connection.close()
    if received.get("content-type", "").startswith("application/json"):
        return response.status, received, json.loads(payload)
    return response.status, received, payload.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def retriever(tmp_path_factory) -> Retriever:
    root = tmp_path_factory.mktemp("server")
    return Retriever.open(docs=write_corpus(root / "docs"), index=root / "index", embedder=HashEmbedder())


@pytest.fixture(scope="module")
def port(retriever) -> Iterator[int]:
    with running_server(create_app(retriever)) as port:
        yield port


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value))


def test_health(port, retriever):
    status, headers, body = call(port, "GET", "/health")
    # the page's header: "docs · 4 articles · 8 passages"
    assert status == 200 and body == {"status": "ok", "passages": len(retriever), "documents": 4, "corpus": "docs"}
    assert len(retriever) >= 5 and retriever.document_count == len(ARTICLES)
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_search_is_the_library_answer(port, retriever, mode):
    question = "How many troops were sent by the alliance?"
    status, _, body = call(port, "POST", "/search", {"question": question, "k": 2, "mode": mode})
    assert status == 200
    assert body == as_json(retriever.search(question, k=2, mode=mode).to_dict())
    assert set(body) >= {"question", "answered", "confidence", "evidence", "disagree", "values", "passages"}
    assert "searched_for" not in body


def test_search_defaults_and_response_model(port, retriever):
    status, _, body = call(port, "POST", "/search", {"question": "When will the withdrawal end?"})
    assert status == 200
    assert body == as_json(retriever.search("When will the withdrawal end?").to_dict())
    assert len(body["passages"]) == 3
    SearchResponse.model_validate(body)  # the documented schema describes what is sent
    declared = set(SearchResponse.model_fields) - {"searched_for"}
    assert declared <= set(body), "every documented key is sent"
    top = body["passages"][0]
    assert "January 19" in top["text"]
    mark = top["highlight"]
    assert top["start"] <= mark["start"] < mark["end"] <= top["end"]


@pytest.mark.parametrize(
    "request_body",
    [
        {"question": "How many troops were sent to guard power plants?"},
        {"question": "Why did the protests start?", "k": 2, "mode": "bm25", "source": "reuters"},
        {"question": "Why did the protests start?", "since": "2022-01-01"},  # no article is dated: none left
    ],
)
def test_search_as_markdown_is_the_library_markdown(port, retriever, request_body):
    status, headers, body = call(port, "POST", "/search?format=markdown", request_body)
    assert status == 200 and headers["content-type"] == "text/markdown; charset=utf-8"
    question, settings = request_body["question"], {k: v for k, v in request_body.items() if k != "question"}
    assert body == markdown(retriever.search(question, **settings))
    assert body.startswith(f"## {question}\n")


def test_search_format_json_is_the_default_and_others_are_refused(port):
    question = {"question": "When will the withdrawal end?"}
    assert call(port, "POST", "/search?format=json", question)[2] == call(port, "POST", "/search", question)[2]
    status, _, body = call(port, "POST", "/search?format=html", question)
    assert status == 422 and body["error"] == "format: Input should be 'json' or 'markdown'"


def test_docs_work_offline(port):
    """Swagger UI and ReDoc load their scripts from a CDN: /docs and /redoc are a plain page linking the schema."""
    for path in ("/docs", "/redoc"):
        status, headers, page = call(port, "GET", path)
        assert status == 200 and headers["content-type"].startswith("text/html")
        assert '<a href="/openapi.json">' in page
        assert "<script" not in page and "//" not in page, "nothing loaded from elsewhere"
        assert "<code>POST /search</code>" in page and "<code>GET /health</code>" in page
        assert "default-src 'none'" in headers["content-security-policy"]


def test_disagreement_and_copies_come_through(port):
    question = {"question": "How many troops were sent to guard power plants?", "k": 2}
    status, _, body = call(port, "POST", "/search", question)
    assert status == 200 and body["disagree"] is True
    assert {value["value"] for value in body["values"]} == {"2,500", "2,000"}
    status, _, body = call(port, "POST", "/search", {"question": "Why did the protests start?", "k": 1})
    assert status == 200
    [hit] = body["passages"]
    assert [Path(other["path"]).name for other in hit["also_in"]] + [Path(hit["source"]["path"]).name] in (
        ["copy.txt", "kazakhstan.txt"],
        ["kazakhstan.txt", "copy.txt"],
    )


def test_context_is_accepted_and_ignored_without_a_resolver(port):
    plain = call(port, "POST", "/search", {"question": "When did it end?"})[2]
    status, _, with_context = call(
        port, "POST", "/search", {"question": "When did it end?", "context": ["Why did troops go to Kazakhstan?"]}
    )
    assert status == 200 and with_context == plain


def test_question_of_exactly_the_limit_is_answered(port):
    status, _, body = call(port, "POST", "/search", {"question": "troops " + "x" * 993})
    assert status == 200 and body["passages"]


def test_resolver_chooses_the_query_and_is_reported(retriever):
    seen = []

    def resolve(question: str, context: list[str]) -> str:
        seen.append((question, context))
        return f"{context[-1]} {question}" if context else question

    app = create_app(retriever, resolve=resolve)
    with running_server(app) as port:
        context = ["Why did troops go to Kazakhstan?"]
        status, _, body = call(port, "POST", "/search", {"question": "When will they leave?", "context": context})
    assert status == 200
    assert seen == [("When will they leave?", context)]
    assert body["question"] == "When will they leave?"
    assert body["searched_for"] == "Why did troops go to Kazakhstan? When will they leave?"
    expected = as_json(retriever.search(body["searched_for"]).to_dict())
    assert body["passages"] == expected["passages"]


def test_an_unexpected_failure_is_json_not_a_traceback(retriever):
    def broken(question: str, context: list[str]) -> str:
        raise RuntimeError("secret internals")

    with running_server(create_app(retriever, resolve=broken)) as port:
        status, _, body = call(port, "POST", "/search", {"question": "troops"})
    assert status == 500 and body == {"error": "internal error; see the server log"}


def test_passage_by_id_is_the_stored_slice(port, retriever):
    for passage, source in retriever.passages():
        status, _, body = call(port, "GET", f"/passages/{passage.id}")
        assert status == 200
        assert body == {
            "id": passage.id,
            "text": passage.text,
            "start": passage.start,
            "end": passage.end,
            "line_start": passage.line_start,
            "line_end": passage.line_end,
            "source": source.to_dict(),
        }
        raw = open(source.path, encoding="utf-8-sig", newline="").read()
        assert raw[body["start"] : body["end"]] == body["text"]


def test_passage_context_lists_neighbours_in_document_order(port, retriever):
    passages = [p for p, s in retriever.passages() if s.path.endswith("kazakhstan.txt")]
    passages.sort(key=lambda p: p.start)
    assert len(passages) >= 3, "the test article must give several passages"
    middle = passages[1]
    status, _, body = call(port, "GET", f"/passages/{middle.id}/context")
    assert status == 200
    assert body["id"] == middle.id and body["source"]["path"].endswith("kazakhstan.txt")
    assert [p["id"] for p in body["passages"]] == [p.id for p in passages[0:4]]
    assert [p["current"] for p in body["passages"]] == [p.id == middle.id for p in passages[0:4]]
    assert body["more_before"] is False and body["more_after"] is (len(passages) > 4)
    starts = [p["start"] for p in body["passages"]]
    assert starts == sorted(starts)

    status, _, only = call(port, "GET", f"/passages/{middle.id}/context?before=0&after=0")
    assert status == 200 and [p["id"] for p in only["passages"]] == [middle.id]
    assert only["more_before"] is True


def test_the_request_model_offers_the_library_modes():
    assert get_args(SearchRequest.model_fields["mode"].annotation) == MODES


def test_openapi_lists_the_endpoints_and_models(port):
    status, _, schema = call(port, "GET", "/openapi.json")
    assert status == 200
    assert set(schema["paths"]) == {"/search", "/passages/{passage_id}", "/passages/{passage_id}/context", "/health"}
    assert set(schema["paths"]["/search"]) == {"post"}
    search = schema["paths"]["/search"]["post"]
    assert search["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/SearchRequest")
    assert search["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/SearchResponse")
    assert search["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    components = schema["components"]["schemas"]
    assert {
        "SearchRequest",
        "SearchResponse",
        "AnswerOut",
        "HitOut",
        "PassageOut",
        "PassageContext",
        "Health",
        "ErrorOut",
    } <= set(components)
    [format_parameter] = search["parameters"]
    assert format_parameter["name"] == "format" and format_parameter["schema"]["enum"] == ["json", "markdown"]
    assert "text/markdown" in search["responses"]["200"]["content"]
    assert set(components["Health"]["properties"]) == {"status", "passages", "documents", "corpus"}
    request = components["SearchRequest"]["properties"]
    assert request["k"]["maximum"] == 50 and request["k"]["minimum"] == 1
    assert request["context"]["maxItems"] == 10
    assert all(prop.get("description") for name, prop in request.items()), "every request field is documented"


def test_the_page_and_its_files_are_served(port):
    status, headers, page = call(port, "GET", "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert 'name="viewport"' in page and 'id="question"' in page
    assert "script-src 'self'" in headers["content-security-policy"]
    for path, kind in (("/static/app.js", "text/javascript"), ("/static/app.css", "text/css")):
        status, headers, _ = call(port, "GET", path)
        assert status == 200 and headers["content-type"].startswith(kind)


LONG = "x" * 1001
BAD_REQUESTS = [
    # name, method, path, json body, raw body, extra headers, status, words in the message
    ("malformed JSON", "POST", "/search", None, b'{"question": ', JSON_HEADERS, 400, "malformed JSON"),
    ("invalid UTF-8", "POST", "/search", None, b'{"question": "\xff\xfe"}', JSON_HEADERS, 400, "malformed"),
    ("no body", "POST", "/search", None, None, JSON_HEADERS, 422, "question"),
    ("missing question", "POST", "/search", {}, None, None, 422, "question"),
    ("body is a list", "POST", "/search", ["troops"], None, None, 422, "JSON object"),
    ("question is a number", "POST", "/search", {"question": 5}, None, None, 422, "question"),
    ("empty question", "POST", "/search", {"question": ""}, None, None, 422, "empty"),
    ("blank question", "POST", "/search", {"question": " \n\t "}, None, None, 422, "empty"),
    ("too long question", "POST", "/search", {"question": LONG}, None, None, 422, "1000"),
    ("k=0", "POST", "/search", {"question": "troops", "k": 0}, None, None, 422, "k"),
    ("k=1000", "POST", "/search", {"question": "troops", "k": 1000}, None, None, 422, "50"),
    ("k as text", "POST", "/search", {"question": "troops", "k": "3"}, None, None, 422, "k"),
    ("k as bool", "POST", "/search", {"question": "troops", "k": True}, None, None, 422, "k"),
    ("unknown mode", "POST", "/search", {"question": "troops", "mode": "magic"}, None, None, 422, "hybrid, dense"),
    ("unknown field", "POST", "/search", {"question": "troops", "top": 5}, None, None, 422, "top"),
    ("context not a list", "POST", "/search", {"question": "troops", "context": "a"}, None, None, 422, "context"),
    ("11 context turns", "POST", "/search", {"question": "troops", "context": ["a"] * 11}, None, None, 422, "10"),
    ("long context turn", "POST", "/search", {"question": "troops", "context": [LONG]}, None, None, 422, "1000"),
    ("bad date", "POST", "/search", {"question": "troops", "since": "yesterday"}, None, None, 422, "YYYY-MM-DD"),
    ("not JSON", "POST", "/search", None, b"question=troops", {"Content-Type": "text/plain"}, 415, "application/json"),
    ("no Content-Type", "POST", "/search", None, b'{"question": "troops"}', None, 415, "no Content-Type"),
    ("huge body", "POST", "/search", {"question": "troops " * 5000}, None, None, 413, "16384"),
    ("unknown passage", "GET", "/passages/0123456789abcdef", None, None, None, 404, "0123456789abcdef"),
    ("unknown passage context", "GET", "/passages/nope/context", None, None, None, 404, "nope"),
    ("context too wide", "GET", "/passages/nope/context?before=11", None, None, None, 422, "before"),
    ("context negative", "GET", "/passages/nope/context?after=-1", None, None, None, 422, "after"),
    ("GET /search", "GET", "/search", None, None, None, 405, "POST"),
    ("unknown route", "GET", "/index.json", None, None, None, 404, "/index.json"),
    ("path outside the index", "GET", "/passages/..%2f..%2fetc%2fpasswd", None, None, None, 404, "no"),
    # JSON can carry lone surrogates ("\ud800"), which no tokenizer or encoder takes: refused, named, never a 500
    ("surrogate question", "POST", "/search", {"question": "when \ud800 did"}, None, None, 422, "question holds inv"),
    ("surrogate context", "POST", "/search", {"question": "q", "context": ["ok", "\udfff"]}, None, None, 422, "item 2"),
    ("surrogate source", "POST", "/search", {"question": "q", "source": "\ud800"}, None, None, 422, "source holds"),
    ("surrogate since", "POST", "/search", {"question": "q", "since": "2022-01-1\ud800"}, None, None, 422, "since"),
    ("surrogate until", "POST", "/search", {"question": "q", "until": "\udc00"}, None, None, 422, "until"),
    ("surrogate field name", "POST", "/search", {"question": "q", "\ud800": 1}, None, None, 422, "invalid Unicode"),
]


@pytest.mark.parametrize(
    "name, method, path, body, raw, headers, status, words", BAD_REQUESTS, ids=[case[0] for case in BAD_REQUESTS]
)
def test_bad_requests_get_a_one_line_json_error(port, name, method, path, body, raw, headers, status, words):
    got, received, answer = call(port, method, path, body, raw=raw, headers=headers)
    assert got == status, answer
    assert received["content-type"] == "application/json"
    assert set(answer) == {"error"} and isinstance(answer["error"], str)
    assert "\n" not in answer["error"] and words in answer["error"]


def test_a_lone_surrogate_is_refused_alike_over_http_and_by_the_library(retriever):
    """The served app resolves follow-ups: a bad context item must stop before the resolver, as a 422."""
    with running_server(serving_app(retriever, "127.0.0.1")) as port:
        status, _, body = call(port, "POST", "/search", {"question": "when \ud800 did"})
        assert status == 422
        with pytest.raises(BadInputError) as refused:
            retriever.search("when \ud800 did")
        assert body == {"error": str(refused.value)}
        follow_up = {"question": "and when?", "context": ["Why did troops go to Kazakhstan \ud83d?"]}
        status, _, body = call(port, "POST", "/search", follow_up)
    assert status == 422 and body["error"].startswith("context item 1 holds invalid Unicode")


def test_a_chunked_body_over_the_limit_is_refused(port):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    chunks = iter([b'{"question": "', b"x" * 10_000, b"x" * 10_000, b'"}'])
    try:
        connection.request("POST", "/search", body=chunks, headers=JSON_HEADERS, encode_chunked=True)
        response = connection.getresponse()
        status, answer = response.status, json.loads(response.read())
    finally:
        connection.close()
    assert status == 413 and "over 16384 bytes" in answer["error"]


def test_limits_are_settings(retriever):
    with running_server(create_app(retriever, max_body=200, max_question=10)) as port:
        assert call(port, "POST", "/search", {"question": "troops leave"})[0] == 422
        assert call(port, "POST", "/search", {"question": "troops"})[0] == 200
        assert call(port, "POST", "/search", {"question": "troops", "context": ["y" * 190]})[0] == 413


def test_allowed_hosts_refuse_other_host_headers(retriever):
    with running_server(create_app(retriever, allowed_hosts=["127.0.0.1", "localhost"])) as port:
        assert call(port, "GET", "/health")[0] == 200
        assert call(port, "GET", "/health", headers={"Host": f"localhost:{port}"})[0] == 200
        status, _, body = call(port, "GET", "/health", headers={"Host": "attacker.example"})
    assert status == 400 and "localhost" in body["error"]


ADDRESSED_TO_THIS_SERVER = [
    "localhost", "LOCALHOST:8000", "127.0.0.1", "127.0.0.1:8000", "127.0.0.2:8000", "[::1]", "[::1]:8000",
    "[0:0:0:0:0:0:0:1]:80",
]  # fmt: skip
ADDRESSED_ELSEWHERE = [
    "attacker.example", "[::1]evil.example", "[::1].evil.com", "[::1]:8000.evil.com", "[::1]:evil", "[::1",
    "[evil.com]", "localhost.evil.com", "127.0.0.1.nip.io", "localhost:http", "localhost:8000:80", "localhost:",
    "",
]  # fmt: skip


def test_the_host_guard_parses_the_header(retriever):
    """Bound to 127.0.0.2: a DNS-rebound name, or a header that only starts like a local one, gets 400."""
    with running_server(serving_app(retriever, "127.0.0.2")) as port:
        for host in ADDRESSED_TO_THIS_SERVER:
            assert call(port, "GET", "/health", headers={"Host": host})[0] == 200, host
        for host in ADDRESSED_ELSEWHERE:
            status, _, body = call(port, "GET", "/health", headers={"Host": host})
            assert status == 400 and "localhost" in body["error"], host
        assert raw_request(port, "GET", "/health", [("Host", "localhost"), ("Host", "evil.com")])[0] == 400


@pytest.mark.parametrize("bound", ["127.0.0.1", "localhost", "127.0.0.2", "127.8.9.10", "::1", "[::1]"])
def test_the_host_guard_stays_on_for_every_loopback_address(retriever, bound):
    with running_server(serving_app(retriever, bound)) as port:
        assert call(port, "GET", "/health")[0] == 200
        assert call(port, "GET", "/health", headers={"Host": "attacker.example"})[0] == 400


def test_bound_to_another_address_no_host_is_refused(retriever):
    """Documented in serving_app: a server opened to the network is reached under names it cannot know."""
    with running_server(serving_app(retriever, "0.0.0.0")) as port:
        assert call(port, "GET", "/health", headers={"Host": "newsqa.lan:8000"})[0] == 200


def raw_request(
    port: int, method: str, path: str, headers: list[tuple[str, str]] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request sent as written (headers repeated if listed twice); the body read as bytes."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=headers is not None)
        for name, value in headers or []:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, {name.lower(): value for name, value in response.getheaders()}, response.read()
    finally:
        connection.close()


def test_head_is_answered_wherever_get_is(port, retriever):
    passage = next(retriever.passages())[0]
    paths = ["/", "/static/app.js", "/static/app.css", "/health", "/openapi.json", "/docs", f"/passages/{passage.id}"]
    for path in [*paths, f"/passages/{passage.id}/context", "/passages/nope", "/no-such-page"]:
        got, got_headers, got_body = raw_request(port, "GET", path)
        status, headers, body = raw_request(port, "HEAD", path)
        assert (status, body) == (got, b""), path
        assert headers["content-type"] == got_headers["content-type"], path
        assert headers["content-length"] == str(len(got_body)), path
        assert headers["x-content-type-options"] == "nosniff"
    status, headers, body = raw_request(port, "HEAD", "/search")
    assert status == 405 and headers["allow"] == "POST" and body == b""


def test_parallel_searches_agree(port, retriever):
    questions = ["How many troops were sent?", "When will the withdrawal end?", "Who won the cup final?"] * 4
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda q: call(port, "POST", "/search", {"question": q}), questions))
    for question, (status, _, body) in zip(questions, answers, strict=True):
        assert status == 200 and body == as_json(retriever.search(question).to_dict())


def test_python_m_qa_server_serves_a_corpus_with_follow_ups(tmp_path):
    docs = write_corpus(tmp_path / "docs")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "QA_MODEL": "hash"}
    command = [sys.executable, "-m", "qa.server", "--docs", str(docs), "--index", str(tmp_path / "idx")]
    process = subprocess.Popen(
        [*command, "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, body = call(port, "GET", "/health")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the server did not start: {process.stdout.read().decode(errors='replace')}")
                time.sleep(0.2)
        assert status == 200 and body["passages"] > 0
        status, _, body = call(port, "GET", "/health", headers={"Host": "attacker.example"})
        assert status == 400, "serve() on localhost only answers requests addressed to localhost"
        follow_up = {"question": "and when did they start?", "context": ["fuel price protests"]}
        status, _, body = call(port, "POST", "/search", follow_up)
        assert status == 200 and body["question"] == "and when did they start?"
        assert "fuel" in body["searched_for"].lower(), "python -m qa.server resolves follow-ups as ask.py serve does"
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_serve_runs_the_app_with_the_follow_up_resolver(retriever, monkeypatch):
    """`ask.py serve` and `python -m qa.server` both end in serve(), which builds the app with serving_app()."""
    served = []
    monkeypatch.setattr("uvicorn.run", lambda app, **settings: served.append((app, settings)))
    serve(retriever, port=9)
    [(app, settings)] = served
    assert settings["host"] == "127.0.0.1" and settings["port"] == 9
    with running_server(app) as port:
        follow_up = {"question": "When will they leave?", "context": ["Why did troops go to Kazakhstan?"]}
        status, _, body = call(port, "POST", "/search", follow_up)
    assert status == 200 and body["question"] == "When will they leave?"
    assert body["searched_for"] != "When will they leave?" and "Kazakhstan" in body["searched_for"]


def test_a_passage_gone_between_the_two_lookups_is_a_404(retriever, monkeypatch):
    passage = retriever.search("How many troops?").hits[0].passage
    monkeypatch.setattr(retriever, "document_passages", lambda doc_key: [])  # its file changed meanwhile
    with running_server(create_app(retriever)) as port:
        status, _, body = call(port, "GET", f"/passages/{passage.id}/context")
    assert status == 404 and "no longer in its file" in body["error"]


def test_python_m_qa_server_is_ask_py_serve(capsys):
    """One command line: `python -m qa.server` takes `ask.py serve`'s options, messages and exit codes."""
    from qa.fronts.server.run import main

    for argv, says in (
        (["--docs", "/no/such/folder"], "no such file or folder: /no/such/folder"),
        (["--store", "redis://x"], "not a Milvus store"),
        (["--backend", "bogus"], "unknown --backend 'bogus'"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and says in err and len(err.strip().splitlines()) == 1, (argv, err)
