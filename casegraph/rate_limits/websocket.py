"""WebSocket connections counted per client address (at the handshake) and per user (at
``connection_init``, once the token is known).

A refused client must be able to tell "too many, retry after N" from "forbidden":

- per address, before accepting: HTTP 429 with ``Retry-After`` when the server speaks the ASGI
  denial-response extension (uvicorn does); otherwise the socket is accepted and closed with
  1013 "Try Again Later" and a reason naming the wait;
- per user: close 1013 with that reason (graphql-transport-ws would say 4403 "Forbidden" for a
  ``ConnectionRejectionError``); the legacy graphql-ws protocol also gets a ``connection_error``
  whose payload carries ``code: RATE_LIMITED`` and ``retryAfter``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final, Protocol

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import ConnectionErrorMessage
from strawberry.subscriptions.protocols.graphql_ws.types import ConnectionInitMessage as LegacyConnectionInitMessage

from casegraph.rate_limits.limiter import RateLimiter, Refusal

TRY_AGAIN_LATER: Final = 1013


class TryLater(Protocol):
    """A refusal to retry later: its reason, and the ``extensions`` saying code and wait."""

    @property
    def message(self) -> str: ...

    @property
    def extensions(self) -> dict[str, object]: ...


class ConnectionRateLimited(Exception):
    """Raised by ``on_ws_connect`` when the user has opened too many connections (or holds too
    many open), or a dependency is away (``casegraph.outages.Unavailable``): close 1013."""

    def __init__(self, refusal: TryLater) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


class ConnectionRateLimit:
    """ASGI wrapper around the WebSocket endpoint: counts each handshake for its client address."""

    def __init__(self, app: ASGIApp, limiter: Callable[[], RateLimiter], subprotocols: Sequence[str]) -> None:
        self.app = app
        self.limiter = limiter
        self.subprotocols = tuple(subprotocols)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            limiter = self.limiter()
            websocket = WebSocket(scope, receive=receive, send=send)
            refusal = await limiter.connection_from(limiter.address(websocket))
            if refusal is not None:
                await self._refuse(websocket, refusal)
                return
        await self.app(scope, receive, send)

    async def _refuse(self, websocket: WebSocket, refusal: Refusal) -> None:
        if "websocket.http.response" in websocket.scope.get("extensions", {}):
            body = {"errors": [{"message": refusal.message, "extensions": refusal.extensions}]}
            headers = {"Retry-After": str(refusal.retry_after)}
            await websocket.send_denial_response(JSONResponse(body, status_code=429, headers=headers))
            return
        # Without denial responses a refused handshake is a bare 403; accept (with the client's
        # subprotocol, which browsers insist on) so the close code and reason reach the client.
        offered = websocket.scope.get("subprotocols", [])
        subprotocol = next((name for name in offered if name in self.subprotocols), None)
        await websocket.accept(subprotocol=subprotocol)
        await websocket.close(code=TRY_AGAIN_LATER, reason=refusal.message)


class TransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """graphql-transport-ws, closing 1013 (not 4403 "Forbidden") for a user over the limit."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except ConnectionRateLimited as limited:
            await self.websocket.close(code=TRY_AGAIN_LATER, reason=limited.refusal.message)


class LegacyWSHandler(BaseGraphQLWSHandler[Any, Any]):
    """graphql-ws: ``connection_error`` with the code and wait, then close 1013."""

    async def handle_connection_init(self, message: LegacyConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except ConnectionRateLimited as limited:
            refusal = limited.refusal
            error: ConnectionErrorMessage = {
                "type": "connection_error",
                "payload": {"message": refusal.message, "extensions": refusal.extensions},
            }
            await self.send_message(error)
            await self.websocket.close(code=TRY_AGAIN_LATER, reason=refusal.message)
