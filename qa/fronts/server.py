"""HTTP front: the JSON API and the local chat page over one loaded Retriever (FastAPI + uvicorn).

Thin like the CLI: every answer is `Retriever.search(...).to_dict()`, the same object `ask.py --json`
prints. Only the loaded index is ever read; no endpoint takes a path. Every error is JSON
`{"error": "one line"}`: 400 malformed JSON or a library error, 404 unknown passage or route,
405 wrong method, 413 body over `max_body` bytes, 415 a body not sent as JSON, 422 a request that
parses but is invalid (blank or too long question, wrong type, k out of range, unknown mode or field).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa import __version__
from qa.errors import BadInputError, QAError
from qa.records import Passage, Source
from qa.search.retriever import MODES, Retriever

MAX_K = 50
MAX_CONTEXT_TURNS = 10
MAX_AROUND = 10  # passages each side that /passages/{id}/context returns at most
STATIC = Path(__file__).resolve().parent / "static"
# the page's files, served from memory by name: no route maps a request onto the file system
_PAGE_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/app.css": ("app.css", "text/css; charset=utf-8"),
}
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
_PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")

Resolver = Callable[[str, list[str]], str]


# --- request and response models (they make /openapi.json; responses are sent as to_dict() gives them) ---


class SearchRequest(BaseModel):
    """A question, with the previous questions of the conversation as `context`."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        strict=True, description="The question; not blank, at most `max_question` characters (1000 by default)."
    )
    k: int = Field(3, strict=True, ge=1, le=MAX_K, description="How many passages to return.")
    mode: Literal["hybrid", "dense", "bm25"] = Field(
        "hybrid", description="hybrid: BM25 and dense scores fused; dense: FAISS only; bm25: BM25 only."
    )
    context: list[str] = Field(
        default_factory=list,
        max_length=MAX_CONTEXT_TURNS,
        description="The previous questions of the conversation, oldest first (each at most `max_question` "
        "characters). Used to resolve follow-up questions when the server has a resolver.",
    )
    source: str | None = Field(
        None,
        strict=True,
        max_length=200,
        description="Only articles whose publisher, byline, title or path contains this (case-insensitive).",
    )
    since: str | None = Field(
        None, strict=True, description="Only articles published on or after this date (YYYY-MM-DD)."
    )
    until: str | None = Field(
        None, strict=True, description="Only articles published on or before this date (YYYY-MM-DD)."
    )


class _Open(BaseModel):
    # keys of the JSON contract are only ever added: a newer library may send more than listed here
    model_config = ConfigDict(extra="allow")


class SourceOut(_Open):
    path: str = Field(description="The file as found under the corpus folder (the .jsonl file for records).")
    id: str | None = Field(description="The record id for a .jsonl corpus, else null.")
    title: str | None
    publisher: str | None
    published: str | None = Field(description="YYYY-MM-DD")
    byline: str | None


class HighlightOut(_Open):
    start: int = Field(
        description="Raw-file offset of the highlighted sentence; slice `text` at start - passage start."
    )
    end: int


class ScoresOut(_Open):
    dense: float | None = Field(description="Cosine similarity, when the dense retriever ranked the passage.")
    bm25: float | None = Field(description="BM25 score, when the passage shares words with the question.")


class AlsoInOut(_Open):
    path: str
    source_id: str | None
    id: str = Field(description="The stored passage where the matching stretch starts.")
    start: int
    end: int
    line_start: int
    line_end: int
    title: str | None
    publisher: str | None
    similarity: float


class HitOut(_Open):
    rank: int
    score: float
    id: str = Field(description="Passage id, for GET /passages/{id}.")
    text: str = Field(description="The verbatim slice of the source text, start to end.")
    start: int
    end: int
    line_start: int
    line_end: int
    source: SourceOut
    highlight: HighlightOut | None
    scores: ScoresOut
    also_in: list[AlsoInOut] = Field(description="Other documents carrying (nearly) the same text (wire copies).")


class ValueSourceOut(_Open):
    rank: int
    path: str
    source_id: str | None
    title: str | None
    publisher: str | None
    start: int
    end: int
    copy_: bool = Field(alias="copy", description="True when read from a wire copy listed under `also_in`.")


class ValueOut(_Open):
    value: str
    sources: list[ValueSourceOut]


class SearchResponse(_Open):
    """What `ask.py --json` prints for one question, plus `searched_for` when the server resolves follow-ups."""

    question: str = Field(description="The question as asked.")
    answered: bool = Field(description="False when the evidence is too weak to say the articles answer it.")
    confidence: float | None
    evidence: dict[str, float] | None
    disagree: bool = Field(description="True when the sources give different numbers or dates.")
    values: list[ValueOut]
    passages: list[HitOut]
    searched_for: str | None = Field(
        None, description="Only with a resolver: the query actually searched (a follow-up made self-contained)."
    )


class PassageOut(_Open):
    id: str
    text: str
    start: int
    end: int
    line_start: int
    line_end: int
    source: SourceOut


class ContextPassage(_Open):
    id: str
    text: str
    start: int
    end: int
    line_start: int
    line_end: int
    current: bool = Field(description="True for the passage that was asked for.")


class PassageContext(_Open):
    """A passage among its neighbours in its article, in document order."""

    id: str
    source: SourceOut
    passages: list[ContextPassage]
    more_before: bool = Field(description="The article has indexed passages before the first one listed.")
    more_after: bool = Field(description="The article has indexed passages after the last one listed.")


class Health(_Open):
    status: Literal["ok"]
    passages: int = Field(description="How many passages the loaded index holds.")


class ErrorOut(BaseModel):
    error: str = Field(description="What is wrong, in one line.")


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    meaning = {
        400: "Malformed JSON, or the library refused the input.",
        415: "The body is not sent as JSON (Content-Type: application/json).",
        404: "No such passage.",
        413: "The request body is over the size limit.",
        422: "The request is valid JSON but not a valid request (the message says which field and why).",
    }
    return {code: {"model": ErrorOut, "description": meaning[code]} for code in codes}


# --- the app ---


@dataclass(frozen=True)
class _Stored:
    passage: Passage
    source: Source
    position: int  # index in its document's passages, in document order


def create_app(
    retriever: Retriever,
    *,
    max_body: int = 16_384,
    max_question: int = 1000,
    resolve: Resolver | None = None,
    allowed_hosts: Sequence[str] | None = None,
) -> FastAPI:
    """The HTTP API and chat page over one opened retriever.

    `resolve(question, context)` (optional) turns a follow-up into the query actually searched; the
    answer then carries it as `searched_for`. With `allowed_hosts`, requests whose Host header names
    another host get 400 (stops DNS rebinding against a server on localhost).
    """
    sources: dict[str, Source] = {}
    documents: dict[str, list[Passage]] = {}  # doc key -> its passages in document order
    for passage, source in retriever.passages():
        documents.setdefault(passage.doc_key, []).append(passage)
        sources[passage.doc_key] = source
    by_id: dict[str, _Stored] = {}
    for key, passages in documents.items():
        passages.sort(key=lambda p: p.start)
        for position, passage in enumerate(passages):
            by_id.setdefault(passage.id, _Stored(passage, sources[key], position))
    page = {route: (STATIC / name).read_bytes() for route, (name, _) in _PAGE_FILES.items()}

    app = FastAPI(
        title="newsqa",
        version=__version__,
        summary="Answers questions about news articles with verbatim, cited passages. Never generates text.",
        description=(
            "Every answer is passages quoted exactly from the indexed articles, with their sources. "
            'Errors are JSON `{"error": "one line"}` with status 400 (malformed JSON, library refusal), '
            f"404 (unknown passage or route), 405 (wrong method), 413 (body over {max_body} bytes), "
            "415 (body not sent as application/json) or 422 (invalid request: blank question, question "
            f"over {max_question} characters, wrong type, k out of range, unknown mode or field)."
        ),
    )
    app.add_middleware(_BodyLimit, max_body=max_body)
    app.add_middleware(_Headers, allowed_hosts=tuple(allowed_hosts) if allowed_hosts else None)
    _install_error_handlers(app)

    def stored(passage_id: str) -> _Stored:
        found = by_id.get(passage_id)
        if found is None:
            raise StarletteHTTPException(404, f"no passage with id {_shortened(passage_id)!r} in this index")
        return found

    @app.post(
        "/search",
        response_model=SearchResponse,
        responses=_errors(400, 413, 415, 422),
        summary="Answer a question with verbatim passages",
    )
    def search(request: SearchRequest) -> Response:
        """The `k` passages that best answer the question, best first, as `ask.py --json` prints them."""
        question = _checked_question(request.question, "question", max_question)
        context = [_checked_question(turn, "context item", max_question, blank_ok=True) for turn in request.context]
        searched = question
        if resolve is not None:
            resolved = resolve(question, context)
            searched = resolved if isinstance(resolved, str) and resolved.strip() else question
        result = retriever.search(
            searched, request.k, request.mode, source=request.source, since=request.since, until=request.until
        )
        payload = result.to_dict()
        if resolve is not None:
            payload["question"] = question
            payload["searched_for"] = searched
        return JSONResponse(payload)

    @app.get(
        "/passages/{passage_id}",
        response_model=PassageOut,
        responses=_errors(404),
        summary="One stored passage with its source",
    )
    def passage(passage_id: str) -> Response:
        """The passage with this id (from an answer's `passages[].id` or `also_in[].id`) and its source."""
        found = stored(passage_id)
        return JSONResponse({**_passage_dict(found.passage), "source": found.source.to_dict()})

    @app.get(
        "/passages/{passage_id}/context",
        response_model=PassageContext,
        responses=_errors(404, 422),
        summary="A passage with its neighbours in its article",
    )
    def passage_context(
        passage_id: str,
        before: int = Query(2, ge=0, le=MAX_AROUND, description="Passages to include before it."),
        after: int = Query(2, ge=0, le=MAX_AROUND, description="Passages to include after it."),
    ) -> Response:
        """The passage and up to `before`/`after` indexed passages of the same article around it, in order."""
        found = stored(passage_id)
        siblings = documents[found.passage.doc_key]
        first = max(0, found.position - before)
        last = min(len(siblings), found.position + after + 1)
        listed = [{**_passage_dict(p), "current": p is found.passage} for p in siblings[first:last]]
        return JSONResponse(
            {
                "id": passage_id,
                "source": found.source.to_dict(),
                "passages": listed,
                "more_before": first > 0,
                "more_after": last < len(siblings),
            }
        )

    @app.get("/health", response_model=Health, summary="Liveness and the size of the loaded index")
    def health() -> Response:
        """`ok` and how many passages the loaded index holds."""
        return JSONResponse({"status": "ok", "passages": len(retriever)})

    for route, (_, media_type) in _PAGE_FILES.items():
        app.add_api_route(route, _page_file(page[route], media_type), methods=["GET"], include_in_schema=False)
    return app


def serve(
    retriever: Retriever,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    resolve: Resolver | None = None,
    log_level: str = "info",
) -> None:
    """Serve the API and the chat page with uvicorn until interrupted (localhost only by default)."""
    import uvicorn

    allowed = LOOPBACK_HOSTS if host in LOOPBACK_HOSTS else None
    app = create_app(retriever, resolve=resolve, allowed_hosts=allowed)
    uvicorn.run(app, host=host, port=port, log_level=log_level)


def _checked_question(text: str, name: str, max_question: int, *, blank_ok: bool = False) -> str:
    if len(text) > max_question:
        raise _Invalid(f"{name} is {len(text)} characters long; the limit is {max_question}")
    if not blank_ok and not text.strip():
        raise _Invalid(f'the {name} is empty; ask something, e.g. "When did the withdrawal finish?"')
    return text


def _passage_dict(passage: Passage) -> dict[str, Any]:
    return {
        "id": passage.id,
        "text": passage.text,
        "start": passage.start,
        "end": passage.end,
        "line_start": passage.line_start,
        "line_end": passage.line_end,
    }


def _page_file(body: bytes, media_type: str) -> Callable[[], Response]:
    def endpoint() -> Response:
        headers = {"Content-Security-Policy": _PAGE_POLICY, "Cache-Control": "no-cache"}
        return Response(body, media_type=media_type, headers=headers)

    return endpoint


# --- errors: one JSON shape, never a traceback ---


class _Invalid(Exception):
    """A request that parses but cannot be answered as asked (422)."""


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": _one_line(message)}, status_code=status, headers=headers)


def _one_line(message: str) -> str:
    return " ".join(str(message).split()) or "error"


def _shortened(text: str, limit: int = 80) -> str:
    """User input echoed in an error, cut to a readable length."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
        if request.method == "POST" and has_body and not content_type.endswith("json"):
            sent = f"not {content_type!r}" if content_type else "the request has no Content-Type"
            return _error(415, f'send the body as JSON with "Content-Type: application/json"; {sent}')
        if first.get("type") == "json_invalid":
            return _error(400, f"malformed JSON: {first.get('ctx', {}).get('error', 'cannot parse the body')}")
        return _error(422, _validation_message(first))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such endpoint: {request.method} {_shortened(request.url.path)}"
        elif exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow") or (exc.headers or {}).get("allow") or "another method"
            message = f"{request.method} is not allowed on {request.url.path}; use {allowed}"
        elif exc.status_code == 400 and message == "There was an error parsing the body":
            message = "malformed JSON: the body cannot be read as UTF-8 JSON"
        return _error(exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(_Invalid)
    async def invalid(request: Request, exc: _Invalid) -> JSONResponse:
        return _error(422, str(exc))

    @app.exception_handler(QAError)
    async def library_error(request: Request, exc: QAError) -> JSONResponse:
        return _error(422 if isinstance(exc, BadInputError) else 400, str(exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _error(500, "internal error; see the server log")


def _validation_message(error: dict[str, Any]) -> str:
    """`k: Input should be less than or equal to 50` from one pydantic error."""
    kind = error.get("type", "")
    where = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    field = ".".join(where)
    if kind == "missing" and not where:
        return 'the body must be a JSON object with a "question", e.g. {"question": "When did the withdrawal finish?"}'
    if kind == "missing":
        return f"{field}: required"
    if kind == "extra_forbidden":
        return f"unknown field {field!r}; the fields are: {', '.join(SearchRequest.model_fields)}"
    if kind == "model_attributes_type" or (kind == "dict_type" and not where):
        return 'the body must be a JSON object with a "question"'
    if field == "mode":
        return f"mode: unknown mode {error.get('input')!r}; choose one of: {', '.join(MODES)}"
    message = error.get("msg", "invalid value")
    return f"{field}: {message}" if field else message


# --- middleware (plain ASGI, so a refused request never reaches the app) ---


class _BodyLimit:
    """Refuses request bodies over `max_body` bytes with 413, whether or not Content-Length is sent."""

    def __init__(self, app: Any, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_big = _error(413, f"the request body is over {self.max_body} bytes")
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                if int(declared) > self.max_body:
                    await too_big(scope, receive, send)
                    return
            except ValueError:
                await _error(400, "bad Content-Length header")(scope, receive, send)
                return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body.extend(message.get("body", b""))
            if len(body) > self.max_body:
                await too_big(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class _Headers:
    """Adds security headers to every response; with `allowed_hosts`, refuses other Host headers."""

    def __init__(self, app: Any, allowed_hosts: tuple[str, ...] | None) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in _SECURITY_HEADERS.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        if self.allowed_hosts is not None and _host_name(scope) not in self.allowed_hosts:
            await _error(400, "this server only answers requests addressed to localhost")(
                scope, receive, send_with_headers
            )
            return
        await self.app(scope, receive, send_with_headers)


def _host_name(scope: dict) -> str:
    host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").strip().lower()
    if host.startswith("["):  # [::1]:8000
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


# --- python -m qa.fronts.server ---


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m qa.server", description="Serve the API and the chat page.")
    parser.add_argument("--docs", help="folder of articles or a .jsonl file (default: seeds/)")
    parser.add_argument("--index", help="index folder (default: one per corpus under index/)")
    parser.add_argument("--model", help="local sentence-transformers model folder (or $QA_MODEL)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    args = parser.parse_args(argv)
    try:
        retriever = Retriever.open(docs=args.docs, index=args.index, model=args.model)
    except QAError as exc:
        parser.exit(getattr(exc, "exit_code", 1), f"error: {exc}\n")
    serve(retriever, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
