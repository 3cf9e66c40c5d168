"""Request bodies over a limit are refused with 413 before they are read whole.

A declared ``Content-Length`` over the limit is refused without reading a byte; a body without
one (chunked) is counted as it arrives and refused as soon as it passes the limit. Either way the
application never holds more than the limit in memory, and a refused request changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casegraph.graphql_http import error_body

PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
GRAPHQL_PATH = "/graphql"


class BodyTooLarge(Exception):
    """Raised from ``receive`` once the body passes the limit; the middleware answers 413."""


class BodyLimit:
    """Pure ASGI, so the body is never buffered here either.

    ``per_path`` overrides ``default`` for exact paths (e-mail intake takes attachments);
    ``multipart`` does for ``multipart/form-data`` bodies on exact paths (GraphQL file uploads).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        default: int,
        per_path: Mapping[str, int] | None = None,
        multipart: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.default = default
        self.per_path = dict(per_path or {})
        self.multipart = dict(multipart or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        headers = Headers(scope=scope)
        limit = self.per_path.get(path, self.default)
        if path in self.multipart and headers.get("content-type", "").lower().startswith("multipart/form-data"):
            limit = self.multipart[path]
        declared = headers.get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await _refusal(path, limit)(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:  # nothing sensible left to say on this response
                raise
            await _refusal(path, limit)(scope, receive, send)


def _refusal(path: str, limit: int) -> JSONResponse:
    message = f"The request body is over the limit of {limit} bytes."
    body: dict[str, Any]
    if path == GRAPHQL_PATH:
        body = error_body(message, PAYLOAD_TOO_LARGE)
        body["errors"][0]["extensions"]["maxBytes"] = limit
    else:
        body = {"error": {"code": PAYLOAD_TOO_LARGE, "message": message, "maxBytes": limit}}
    # The rest of the body is never read: the connection cannot carry another request.
    return JSONResponse(body, 413, headers={"Connection": "close"})
