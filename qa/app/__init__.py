"""The library layer under the fronts: the only part of the package the CLI, the chat, the HTTP server, the
MCP server and the framework integrations import (with qa.records and qa.errors; tests/test_layers.py).

It owns opening a corpus (`OpenOptions`, `open_retriever`) and keeping an index and its mirror in step
(`update_index`, `mirror_state`, `verified_mirror`), and hands the fronts the library's checks, limits and
text helpers from one place.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.app.maintenance import MirrorFlags, Updated, mirror_state, update_index, verified_mirror
    from qa.app.opening import OpenOptions, open_retriever
    from qa.citations import NOT_ANSWERED, markdown, no_passages
    from qa.conversation.followup import Resolved, history_resolver, resolve
    from qa.embed import load_embedder, preload
    from qa.embed.runtimes.ray_embedder import RaySettings
    from qa.extract.article import explain_file
    from qa.indexing import index_status, read_excluded, scan_corpus, verify_index, write_excluded
    from qa.indexing.build import RESTORED_BACKEND
    from qa.ingest.corpus import CORPUS_SUFFIXES, escape_path
    from qa.inputs import (
        AUTO_BACKEND,
        BACKENDS,
        DEFAULT_K,
        DEFAULT_MODE,
        HTTP_MAX_K,
        MAX_AROUND,
        MAX_BODY_BYTES,
        MAX_CONTEXT_TURNS,
        MAX_K,
        MAX_QUESTION_CHARS,
        MAX_SOURCE_CHARS,
        MODES,
        check_backend,
        check_date,
        check_k,
        check_mode,
        check_question,
        check_text,
    )
    from qa.paths import default_docs, default_index_dir
    from qa.search.context import PassageContext
    from qa.search.evaluate import evaluate, graded_question
    from qa.search.retriever import Retriever
    from qa.text.encoding import terminal_safe, terminal_safe_offsets
    from qa.text.plural import counted
    from qa.version import __version__

__all__ = [
    "AUTO_BACKEND",
    "BACKENDS",
    "CORPUS_SUFFIXES",
    "DEFAULT_K",
    "DEFAULT_MODE",
    "HTTP_MAX_K",
    "MAX_AROUND",
    "MAX_BODY_BYTES",
    "MAX_CONTEXT_TURNS",
    "MAX_K",
    "MAX_QUESTION_CHARS",
    "MAX_SOURCE_CHARS",
    "MODES",
    "NOT_ANSWERED",
    "RESTORED_BACKEND",
    "MirrorFlags",
    "OpenOptions",
    "PassageContext",
    "RaySettings",
    "Resolved",
    "Retriever",
    "Updated",
    "__version__",
    "check_backend",
    "check_date",
    "check_k",
    "check_mode",
    "check_question",
    "check_text",
    "counted",
    "default_docs",
    "default_index_dir",
    "escape_path",
    "evaluate",
    "explain_file",
    "graded_question",
    "history_resolver",
    "index_status",
    "load_embedder",
    "markdown",
    "mirror_state",
    "no_passages",
    "open_retriever",
    "preload",
    "read_excluded",
    "resolve",
    "scan_corpus",
    "terminal_safe",
    "terminal_safe_offsets",
    "update_index",
    "verified_mirror",
    "verify_index",
    "write_excluded",
]

# each name and the module it lives in, imported on first use (PEP 562) as in qa/__init__.py: `ask.py` starts
# loading its encoder (qa.embed.preload) before the rest of the library is imported
_MODULES = {"preload"}  # names that are modules, not attributes of their home
_HOMES = {
    "MirrorFlags": "qa.app.maintenance",
    "Updated": "qa.app.maintenance",
    "mirror_state": "qa.app.maintenance",
    "update_index": "qa.app.maintenance",
    "verified_mirror": "qa.app.maintenance",
    "OpenOptions": "qa.app.opening",
    "open_retriever": "qa.app.opening",
    "NOT_ANSWERED": "qa.citations",
    "markdown": "qa.citations",
    "no_passages": "qa.citations",
    "load_embedder": "qa.embed",
    "preload": "qa.embed.preload",  # a module
    "explain_file": "qa.extract.article",
    "index_status": "qa.indexing",
    "read_excluded": "qa.indexing",
    "scan_corpus": "qa.indexing",
    "verify_index": "qa.indexing",
    "write_excluded": "qa.indexing",
    "RESTORED_BACKEND": "qa.indexing.build",
    "RaySettings": "qa.embed.runtimes.ray_embedder",
    "CORPUS_SUFFIXES": "qa.ingest.corpus",
    "escape_path": "qa.ingest.corpus",
    "AUTO_BACKEND": "qa.inputs",
    "BACKENDS": "qa.inputs",
    "DEFAULT_K": "qa.inputs",
    "DEFAULT_MODE": "qa.inputs",
    "HTTP_MAX_K": "qa.inputs",
    "MAX_AROUND": "qa.inputs",
    "MAX_BODY_BYTES": "qa.inputs",
    "MAX_CONTEXT_TURNS": "qa.inputs",
    "MAX_K": "qa.inputs",
    "MAX_QUESTION_CHARS": "qa.inputs",
    "MAX_SOURCE_CHARS": "qa.inputs",
    "MODES": "qa.inputs",
    "check_backend": "qa.inputs",
    "check_date": "qa.inputs",
    "check_k": "qa.inputs",
    "check_mode": "qa.inputs",
    "check_question": "qa.inputs",
    "check_text": "qa.inputs",
    "default_docs": "qa.paths",
    "default_index_dir": "qa.paths",
    "PassageContext": "qa.search.context",
    "evaluate": "qa.search.evaluate",
    "graded_question": "qa.search.evaluate",
    "Resolved": "qa.conversation.followup",
    "history_resolver": "qa.conversation.followup",
    "resolve": "qa.conversation.followup",
    "Retriever": "qa.search.retriever",
    "terminal_safe": "qa.text.encoding",
    "terminal_safe_offsets": "qa.text.encoding",
    "counted": "qa.text.plural",
    "__version__": "qa.version",
}


if not TYPE_CHECKING:  # for mypy, only the names imported above exist

    def __getattr__(name: str) -> Any:
        home = _HOMES.get(name)
        if home is None:
            raise AttributeError(f"module 'qa.app' has no attribute {name!r}")
        value = import_module(home) if name in _MODULES else getattr(import_module(home), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
