# Follows upstream: starlette 1.10.0, starlette/routing.py
# Follows upstream: starlette 1.10.0, starlette/_utils.py
"""The GraphQL WebSocket endpoint reached straight from the observability layer.

Each open connection keeps its whole ASGI call chain suspended for as long as it lives. For
this one route Starlette's exception middleware and router add about 2 KiB per connection (a
closure, a wrapped send, four frames) and do nothing: the endpoint raises no HTTP or WebSocket
exceptions for them to render, and the path is fixed. So the application's middleware stack
sends ``/graphql`` WebSocket scopes to the endpoint directly; everything else (and the route
table, which still lists the endpoint) is untouched.
"""

from __future__ import annotations

from starlette._utils import get_route_path
from starlette.types import ASGIApp, Receive, Scope, Send


class DirectWebSocketRoute:
    def __init__(self, app: ASGIApp, *, path: str, endpoint: ASGIApp) -> None:
        self.app = app
        self.path = path
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and get_route_path(scope) == self.path:
            # What the router would have added for a parameterless WebSocketRoute.
            scope["endpoint"] = self.endpoint
            scope["path_params"] = {}
            await self.endpoint(scope, receive, send)
        else:
            await self.app(scope, receive, send)
