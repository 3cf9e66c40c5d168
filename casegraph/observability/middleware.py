"""Pure ASGI middleware: the request id, one access line per request, and HTTP metrics.

Pure ASGI (not BaseHTTPMiddleware) so the application runs in the same task and context as this
middleware: the request scope set here is the one resolvers, services and log records see.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casegraph.client_address import client_address
from casegraph.observability.metrics import Metrics, method_label
from casegraph.observability.request_context import RequestScope, request_scope
from casegraph.observability.request_id import HEADER, accept_or_generate

access_log = logging.getLogger("casegraph.access")

# Probes and scrapes arrive every few seconds; their lines would drown the requests that matter
# (at DEBUG unless they fail).
QUIET_ROUTES: Final = frozenset({"/healthz", "/readyz", "/metrics"})
MAX_LOGGED_PATH: Final = 200


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        observed = RequestScope(request_id=accept_or_generate(headers.get(HEADER)))
        status = 500  # what the client gets if the application fails before answering
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[HEADER] = observed.request_id
            await send(message)

        try:
            with request_scope(observed):
                await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = method_label(scope["method"])
            self.metrics.http_requests.labels(method, route, str(status)).inc()
            self.metrics.http_duration.labels(method, route).observe(elapsed)
            fields = self._fields(scope, headers, observed, elapsed)
            fields.update(method=scope["method"], status=status)
            level = logging.WARNING if status >= 500 else logging.DEBUG if route in QUIET_ROUTES else logging.INFO
            access_log.log(level, "%s %s %s", scope["method"], fields["path"], status, extra=fields)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        observed = RequestScope(request_id=accept_or_generate(headers.get(HEADER)))
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "websocket.accept":
                extra = [(HEADER.lower().encode(), observed.request_id.encode())]
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        try:
            # Every operation on the connection runs in a task started inside this block, so all
            # of them (and the events their mutations write) carry the connection's request id.
            with request_scope(observed):
                await self.app(scope, receive, send_with_id)
        finally:
            fields = self._fields(scope, headers, observed, time.perf_counter() - started)
            access_log.info("WEBSOCKET %s closed", fields["path"], extra=fields)

    def _fields(self, scope: Scope, headers: Headers, observed: RequestScope, elapsed: float) -> dict[str, Any]:
        """What the access line says. Never headers or the query string: tokens and variables live there."""
        fields: dict[str, Any] = {
            "path": str(scope.get("path", ""))[:MAX_LOGGED_PATH],
            "duration_ms": round(elapsed * 1000, 1),
            "client": client_address(scope.get("client")),
            "request_id": observed.request_id,
        }
        if observed.actor_id is not None:
            fields["user"] = observed.actor_id
        if observed.operations:
            fields["operation_type"] = ",".join(kind for kind, _ in observed.operations)
            fields["operation_name"] = ",".join(name for _, name in observed.operations)
        return fields
