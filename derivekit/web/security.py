"""What every response carries and what no request may exceed (pure ASGI middleware).

- ``Content-Security-Policy``: scripts, styles, fonts and fetches from this origin only;
  images also from ``data:`` (figures are embedded in the page), nothing framed.
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``.
- Bodies over ``max_body`` bytes and query strings over ``max_query`` are answered 413 before
  any handler reads them.
"""

from __future__ import annotations

import json

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class TooLarge(Exception):
    pass


class Guard:
    """Security headers on every response; 413 for oversized bodies and query strings."""

    def __init__(self, app, max_body: int = 64 * 1024, max_query: int = 24 * 1024):
        self.app, self.max_body, self.max_query = app, max_body, max_query

    async def _refuse(self, send, status: int, message: str, hint: str) -> None:
        body = json.dumps({"error": message, "hint": hint, "position": None}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())] + HEADERS})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if len(scope.get("query_string", b"")) > self.max_query:
            return await self._refuse(send, 413, f"the query string is over {self.max_query} bytes",
                                      "send long input in a POST body")
        headers = dict(scope.get("headers", []))
        try:
            declared = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            declared = 0
        if declared > self.max_body:
            return await self._refuse(send, 413, f"the request body is over {self.max_body} bytes",
                                      "send a smaller input")
        received = 0
        started = False

        async def capped_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise TooLarge
            return message

        async def secured_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                names = {name.lower() for name, _ in message.get("headers", [])}
                message = dict(message)
                message["headers"] = list(message.get("headers", [])) + [
                    h for h in HEADERS if h[0] not in names]
            await send(message)

        try:
            await self.app(scope, capped_receive, secured_send)
        except TooLarge:
            if not started:
                await self._refuse(send, 413, f"the request body is over {self.max_body} bytes",
                                   "send a smaller input")
