"""Plain ASGI middleware, so a refused request never reaches the app: a body size limit, security headers, Host."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.fronts.server.errors import error_response

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


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
    """Adds security headers to every response; with `allowed_hosts`, refuses other Host headers."""

    def __init__(self, app: ASGIApp, allowed_hosts: tuple[str, ...] | None) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts

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

        if self.allowed_hosts is not None and host_name(scope) not in self.allowed_hosts:
            refused = error_response(400, "this server only answers requests addressed to localhost")
            await refused(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


def host_name(scope: Scope) -> str:
    """The Host header without its port: `localhost`, `127.0.0.1`, `[::1]`."""
    host = str(dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")).strip().lower()
    if host.startswith("["):  # [::1]:8000
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
