"""Every HTTP error as one JSON shape, `{"error": "one line"}`, never a traceback."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa.app import check_mode, check_text
from qa.errors import BadInputError, QAError, one_line
from qa.fronts.server.models import SearchRequest


class InvalidRequest(Exception):
    """A request that parses but cannot be answered as asked (422)."""


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": one_line(message, limit=2000)}, status_code=status, headers=headers)


def shortened(text: str, limit: int = 80) -> str:
    """User input echoed in an error, cut to a readable length."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(InvalidRequest, _invalid)
    app.add_exception_handler(QAError, _library_error)
    app.add_exception_handler(Exception, _unexpected)


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    first: dict[str, Any] = errors[0] if errors else {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    if request.method == "POST" and has_body and not content_type.endswith("json"):
        sent = f"not {content_type!r}" if content_type else "the request has no Content-Type"
        return error_response(415, f'send the body as JSON with "Content-Type: application/json"; {sent}')
    if first.get("type") == "json_invalid":
        return error_response(400, f"malformed JSON: {first.get('ctx', {}).get('error', 'cannot parse the body')}")
    return error_response(422, _validation_message(first))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):
        return await _unexpected(request, exc)
    message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = f"no such endpoint: {request.method} {shortened(request.url.path)}"
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow") or (exc.headers or {}).get("allow") or "another method"
        message = f"{request.method} is not allowed on {request.url.path}; use {allowed}"
    elif exc.status_code == 400 and message == "There was an error parsing the body":
        message = "malformed JSON: the body cannot be read as UTF-8 JSON"
    return error_response(exc.status_code, message, getattr(exc, "headers", None))


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    return error_response(422, str(exc))


async def _library_error(request: Request, exc: Exception) -> JSONResponse:
    return error_response(422 if isinstance(exc, BadInputError) else 400, str(exc))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    return error_response(500, "internal error; see the server log")


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
    if kind == "string_unicode":  # a lone surrogate in a constrained string or a key: worded as the API words it
        try:
            check_text(str(error.get("input", "")), field or "a field name")
        except BadInputError as exc:
            return str(exc)
    if kind == "model_attributes_type" or (kind == "dict_type" and not where):
        return 'the body must be a JSON object with a "question"'
    if field == "mode":
        try:
            check_mode(error.get("input"))
        except BadInputError as exc:
            return f"mode: {exc}"
    message = str(error.get("msg", "invalid value"))
    return f"{field}: {message}" if field else message
