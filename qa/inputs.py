"""What the library accepts, in one place for every front: modes, k bounds, backends, dates, questions.

The library checks its own arguments with these; the CLI, the REPL and the HTTP server check theirs with
the same functions (or declare the same bounds), so a limit cannot drift between fronts. Each check
raises BadInputError (or EmptyQuestionError) with a one-line message naming the option.
"""

from __future__ import annotations

import re

from qa.errors import BadInputError, EmptyQuestionError
from qa.text.dates import normalise_date
from qa.text.encoding import is_encodable

MODES = ("hybrid", "dense", "bm25")
DEFAULT_MODE = "hybrid"
DEFAULT_K = 3
MAX_K = 1000  # passages per answer from the library, the CLI and the chat
HTTP_MAX_K = 50  # passages per answer over HTTP: a page never shows more, and a request stays cheap
MAX_QUESTION_CHARS = 1000  # over HTTP: a question (or a context item) longer than this is refused
MAX_CONTEXT_TURNS = 10  # over HTTP: previous questions a request may send as its conversation
MAX_SOURCE_CHARS = 200  # over HTTP: the length of a `source` filter
MAX_BODY_BYTES = 16_384  # over HTTP: a request body
MAX_AROUND = 10  # over HTTP: passages each side of one that /passages/{id}/context returns at most
AUTO_BACKEND = "auto"
# build encoders (qa/embed/bulk.py), fastest first where each can run
BACKENDS = ("openvino-bf16", "openvino-fp16", "torch-bf16", "openvino-fp32", "onnxruntime-fp32", "torch-fp32")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def check_question(question: object) -> str:
    """The question as given; refuses a non-string, one with no letter or digit ("", "  ", "?") and one holding
    invalid Unicode."""
    if not isinstance(question, str) or not any(char.isalnum() for char in question):
        raise EmptyQuestionError()
    return check_text(question, "the question")


def check_text(text: str, name: str) -> str:
    """Text that can be encoded as UTF-8; refuses lone surrogates, which JSON can carry ("\\ud800") and a
    command line gets from bytes that are not UTF-8, before they reach the tokenizer or an encoder."""
    if not is_encodable(text):
        raise BadInputError(f"{name} holds invalid Unicode (a lone surrogate, which cannot be encoded as UTF-8)")
    return text


def check_k(k: object, limit: int = MAX_K, name: str = "k") -> int:
    """How many passages: a whole number from 1 to `limit` (a bool or a float is refused)."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= limit:
        raise BadInputError(f"{name} must be between 1 and {limit}, got {k}")
    return k


def check_mode(mode: object, name: str = "mode") -> str:
    if mode not in MODES:
        raise BadInputError(f"unknown {name} {mode!r}; choose one of: {', '.join(MODES)}")
    return str(mode)


def check_backend(backend: object, name: str = "backend") -> str:
    if backend != AUTO_BACKEND and backend not in BACKENDS:
        raise BadInputError(f"unknown {name} {backend!r}; choose one of: {', '.join((AUTO_BACKEND, *BACKENDS))}")
    return str(backend)


def check_date(value: object, name: str) -> str | None:
    """A YYYY-MM-DD date bound (None stays None), checked to be a real calendar date."""
    if value is None:
        return None
    if not isinstance(value, str) or not _ISO_DATE.match(value.strip()) or normalise_date(value) != value.strip():
        # an option "takes" a date (the CLI's wording); a field or argument "must be" one (the API's)
        verb = "takes" if name.startswith("--") else "must be"
        raise BadInputError(f"{name} {verb} a date as YYYY-MM-DD, got {value!r}")
    return value.strip()
