"""Serving: the one app both `ask.py serve` and `python -m qa.server` (the same command) run."""

from __future__ import annotations

from fastapi import FastAPI

from qa.app import DEFAULT_MODE, Retriever, history_resolver
from qa.fronts.server.app import create_app
from qa.fronts.server.middleware import LOOPBACK_HOSTS, is_loopback, normal_host


def serving_app(retriever: Retriever, host: str, *, mode: str = DEFAULT_MODE) -> FastAPI:
    """The served app, follow-ups resolved against the request's context.

    Bound to a loopback address (`localhost`, any 127.x.y.z, `::1`), it answers only requests whose Host is
    `localhost`, 127.0.0.1, ::1 or the bound address: a web page cannot reach it by rebinding its own name to
    127.0.0.1. Bound to any other address (0.0.0.0, a LAN address), no Host is refused: such a server is meant
    to be reached under names it cannot know, and whoever binds it there has opened it to the network anyway.
    """
    allowed = (*LOOPBACK_HOSTS, normal_host(host)) if is_loopback(host) else None
    return create_app(retriever, resolve=history_resolver(retriever, mode), allowed_hosts=allowed)


def serve(
    retriever: Retriever,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    mode: str = DEFAULT_MODE,
    log_level: str = "info",
) -> None:
    """Serve the API and the chat page with uvicorn until interrupted (localhost only by default)."""
    import uvicorn

    uvicorn.run(serving_app(retriever, host, mode=mode), host=host, port=port, log_level=log_level)


def main(argv: list[str] | None = None) -> None:
    """`python -m qa.server [OPTIONS]`: the same as `ask.py serve [OPTIONS]` (every option, message and exit code
    is the one command line's: qa/fronts/cli.py)."""
    import sys

    from qa.fronts.cli import main as ask

    ask(["serve", *(sys.argv[1:] if argv is None else argv)])
