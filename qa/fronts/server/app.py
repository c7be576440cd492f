"""The app factory: the JSON API and the chat page's files over one opened Retriever."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa.app import (
    MAX_AROUND,
    MAX_BODY_BYTES,
    MAX_QUESTION_CHARS,
    Resolved,
    Retriever,
    __version__,
    check_question,
    check_text,
    markdown,
)
from qa.fronts.server.errors import InvalidRequest, install_error_handlers, shortened
from qa.fronts.server.middleware import BodyLimit, HeadAsGet, SecurityHeaders
from qa.fronts.server.models import (
    Health,
    OutputFormat,
    PassageContext,
    PassageOut,
    SearchRequest,
    SearchResponse,
    error_responses,
)
from qa.records import Passage

# a follow-up made self-contained: the query, or the query with the topic article to read first
Resolver = Callable[[str, list[str]], "str | Resolved"]
STATIC = Path(__file__).resolve().parent.parent / "static"
# the page's files, served from memory by name: no route maps a request onto the file system
PAGE_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/app.css": ("app.css", "text/css; charset=utf-8"),
}
_PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def create_app(
    retriever: Retriever,
    *,
    max_body: int = MAX_BODY_BYTES,
    max_question: int = MAX_QUESTION_CHARS,
    resolve: Resolver | None = None,
    allowed_hosts: Sequence[str] | None = None,
) -> FastAPI:
    """The HTTP API and chat page over one opened retriever.

    `resolve(question, context)` (optional) turns a follow-up into the query actually searched; the
    answer then carries it as `searched_for`. With `allowed_hosts`, requests whose Host header names
    another host, or does not parse, get 400 (stops DNS rebinding against a server on localhost). HEAD is
    answered wherever GET is.
    """
    app = FastAPI(
        # Swagger UI and ReDoc load their scripts from a CDN, so offline they are blank pages: /docs says where
        # the schema is instead (_add_docs)
        docs_url=None,
        redoc_url=None,
        title="newsqa",
        version=__version__,
        summary="Answers questions about news articles with verbatim, cited passages. Never generates text.",
        description=(
            "Every answer is passages quoted exactly from the indexed articles, with their sources. "
            'Errors are JSON `{"error": "one line"}` with status 400 (malformed JSON, library refusal), '
            f"404 (unknown passage or route), 405 (wrong method), 413 (body over {max_body} bytes), "
            "415 (body not sent as application/json) or 422 (invalid request: blank question, question "
            f"over {max_question} characters, text that is not valid Unicode, wrong type, k out of range, unknown "
            "mode or field). This server serves no Swagger UI (its scripts would come from a CDN): "
            "/docs lists the endpoints and links this schema."
        ),
    )
    app.add_middleware(BodyLimit, max_body=max_body)
    app.add_middleware(SecurityHeaders, allowed_hosts=tuple(allowed_hosts) if allowed_hosts else None)
    app.add_middleware(HeadAsGet)  # the outermost: every layer sees a GET, and no layer's body is sent
    install_error_handlers(app)
    _add_search(app, retriever, max_question, resolve)
    _add_passages(app, retriever)
    _add_health(app, retriever)
    _add_page(app)
    _add_docs(app)
    return app


def _add_search(app: FastAPI, retriever: Retriever, max_question: int, resolve: Resolver | None) -> None:
    @app.post(
        "/search",
        response_model=SearchResponse,
        responses={
            200: {"content": {"text/markdown": {"schema": {"type": "string"}}}},
            **error_responses(400, 413, 415, 422),
        },
        summary="Answer a question with verbatim passages",
    )
    def search(
        request: SearchRequest,
        output: Annotated[
            OutputFormat,
            Query(
                alias="format",
                description="json: the answer object; markdown: the same answer as Markdown (text/markdown) for "
                "notes: the question, what the sources say, each passage quoted with its citation.",
            ),
        ] = "json",
    ) -> Response:
        """The `k` passages that best answer the question, best first, as `ask.py --json` prints them; with
        `?format=markdown`, the answer as Markdown (`qa.citations.markdown`), headed by the query searched."""
        question = check_question(_within(request.question, "question", max_question))
        context = [
            check_text(_within(turn, "context item", max_question), f"context item {number}")
            for number, turn in enumerate(request.context, start=1)
        ]
        if request.source is not None:
            check_text(request.source, "source")  # since and until must be dates: check_date refuses these
        searched, article = question, None
        if resolve is not None:
            resolved = resolve(question, context)
            if isinstance(resolved, Resolved):
                searched, article = resolved.query.strip() or question, resolved.article
            elif isinstance(resolved, str) and resolved.strip():
                searched = resolved
        result = retriever.search(
            searched,
            request.k,
            request.mode,
            source=request.source,
            since=request.since,
            until=request.until,
            article=article,
        )
        if output == "markdown":
            return Response(markdown(result, question), media_type="text/markdown; charset=utf-8")
        payload = result.to_dict()
        if resolve is not None:
            payload["question"] = question
            payload["searched_for"] = searched
        return JSONResponse(payload)


def _within(text: str, name: str, max_question: int) -> str:
    if len(text) > max_question:
        raise InvalidRequest(f"{name} is {len(text)} characters long; the limit is {max_question}")
    return text


def _add_passages(app: FastAPI, retriever: Retriever) -> None:
    @app.get(
        "/passages/{passage_id}",
        response_model=PassageOut,
        responses=error_responses(404),
        summary="One stored passage with its source",
    )
    def passage(passage_id: str) -> Response:
        """The passage with this id (from an answer's `passages[].id` or `also_in[].id`) and its source."""
        found = _stored(retriever, passage_id)
        return JSONResponse({**found.to_dict(), "source": retriever.source(found.doc_key).to_dict()})

    @app.get(
        "/passages/{passage_id}/context",
        response_model=PassageContext,
        responses=error_responses(404, 422),
        summary="A passage with its neighbours in its article",
    )
    def passage_context(
        passage_id: str,
        before: int = Query(2, ge=0, le=MAX_AROUND, description="Passages to include before it."),
        after: int = Query(2, ge=0, le=MAX_AROUND, description="Passages to include after it."),
    ) -> Response:
        """The passage and up to `before`/`after` indexed passages of the same article around it, in order."""
        found = retriever.context_of(_stored(retriever, passage_id), before, after)
        if found is None:  # its file changed between the two lookups
            raise StarletteHTTPException(404, f"passage {shortened(passage_id)!r} is no longer in its file")
        return JSONResponse(found.to_dict())


def _stored(retriever: Retriever, passage_id: str) -> Passage:
    found = retriever.passage(passage_id)
    if found is None:
        raise StarletteHTTPException(404, f"no passage with id {shortened(passage_id)!r} in this index")
    return found


def _add_health(app: FastAPI, retriever: Retriever) -> None:
    @app.get("/health", response_model=Health, summary="Liveness, and the loaded corpus and its size")
    def health() -> Response:
        """`ok`, how many passages and documents the loaded index holds, and the corpus's name."""
        return JSONResponse(
            {
                "status": "ok",
                "passages": len(retriever),
                "documents": retriever.document_count,
                "corpus": retriever.corpus_name,
            }
        )


def _add_page(app: FastAPI) -> None:
    for route, (name, media_type) in PAGE_FILES.items():
        body = (STATIC / name).read_bytes()  # read once, when the app is made
        app.add_api_route(route, _page_file(body, media_type), methods=["GET"], include_in_schema=False)


def _page_file(body: bytes, media_type: str) -> Callable[[], Response]:
    def endpoint() -> Response:
        headers = {"Content-Security-Policy": _PAGE_POLICY, "Cache-Control": "no-cache"}
        return Response(body, media_type=media_type, headers=headers)

    return endpoint


def _add_docs(app: FastAPI) -> None:
    """/docs (and /redoc): no Swagger UI, whose scripts come from a CDN, but a plain page, made from the schema,
    listing the endpoints and linking /openapi.json."""
    made: list[bytes] = []

    def docs() -> Response:
        if not made:
            made.append(_docs_page(app.openapi()).encode("utf-8"))
        headers = {"Content-Security-Policy": _PAGE_POLICY, "Cache-Control": "no-cache"}
        return Response(made[0], media_type="text/html; charset=utf-8", headers=headers)

    for route in ("/docs", "/redoc"):
        app.add_api_route(route, docs, methods=["GET"], include_in_schema=False)


def _docs_page(schema: dict[str, object]) -> str:
    paths = schema.get("paths")
    rows = []
    for path, operations in (paths if isinstance(paths, dict) else {}).items():
        for method, operation in operations.items():
            summary = operation.get("summary", "") if isinstance(operation, dict) else ""
            endpoint = html.escape(f"{method.upper()} {path}")
            rows.append(f"<li><code>{endpoint}</code> — {html.escape(summary)}</li>")
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>newsqa API</title>\n'
        '<link rel="icon" href="data:,">\n</head>\n<body>\n<h1>newsqa API</h1>\n'
        "<p>This server works offline, so it serves no Swagger UI or ReDoc (their scripts come from a CDN). "
        'The API\'s OpenAPI schema is at <a href="/openapi.json">/openapi.json</a>: open it in a browser or load '
        "it into any OpenAPI viewer.</p>\n"
        f"<ul>\n{chr(10).join(rows)}\n</ul>\n"
        '<p><a href="/">The chat page</a></p>\n</body>\n</html>\n'
    )
