"""Plain ASGI middleware, so a refused request never reaches the app: a body size limit, security headers, Host,
and HEAD answered as GET."""

from __future__ import annotations

import ipaddress
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.fronts.server.errors import error_response

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
# a Host header is `name` or `name:port`; an IPv6 address is bracketed, and nothing may follow its `]` but a port
_HOST_HEADER = re.compile(r"(?P<name>\[[0-9a-f:.]+\]|[^:\[\]]+)(?::\d{1,5})?")


class BodyLimit:
    """Refuses request bodies over `max_body` bytes with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_big = error_response(413, f"the request body is over {self.max_body} bytes")
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                if int(declared) > self.max_body:
                    await too_big(scope, receive, send)
                    return
            except ValueError:
                await error_response(400, "bad Content-Length header")(scope, receive, send)
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
        await self.app(scope, _replay(bytes(body), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body already read once, then whatever the client sends next."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class SecurityHeaders:
    """Adds security headers to every response; with `allowed_hosts`, refuses a request unless its one Host
    header parses and names one of them (a port may follow; `[::1]` and `::1` are the same host)."""

    def __init__(self, app: ASGIApp, allowed_hosts: tuple[str, ...] | None) -> None:
        self.app = app
        self.allowed_hosts = None if allowed_hosts is None else tuple(normal_host(host) for host in allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        if self.allowed_hosts is not None and (host_name(scope) or "") not in self.allowed_hosts:
            refused = error_response(400, "this server only answers requests addressed to localhost")
            await refused(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def host_name(scope: Scope) -> str | None:
    """The host the request names, without its port and as normal_host() spells it: `localhost`, `127.0.0.1`,
    `::1`; None when there is not exactly one Host header or it is not `host[:port]` (`[::1]evil.example`,
    `[::1].evil.com`, `localhost:http`)."""
    values = [value for name, value in scope.get("headers") or [] if name.lower() == b"host"]
    if len(values) != 1:
        return None
    parsed = _HOST_HEADER.fullmatch(values[0].decode("latin-1").strip().lower())
    if parsed is None:
        return None
    name = parsed["name"]
    if name.startswith("["):
        try:
            return str(ipaddress.IPv6Address(name[1:-1]))
        except ValueError:
            return None
    return name


def normal_host(host: str) -> str:
    """A host name or address as Host headers are compared: lower case, IPv6 unbracketed and compressed."""
    name = host.strip().lower()
    bare = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        return name


def is_loopback(host: str) -> bool:
    """`localhost` or a loopback address: any 127.x.y.z, `::1` (bracketed or not)."""
    name = normal_host(host)
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class HeadAsGet:
    """Answers HEAD on every GET route: the app sees a GET, and the client gets its status and headers (its
    Content-Length included) without the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)
