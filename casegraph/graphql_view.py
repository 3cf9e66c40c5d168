"""The GraphQL endpoint: Strawberry's ASGI view with our authentication, HTTP semantics and guards."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.extensions import SchemaExtension
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.execution import ExecutionResult, SubscriptionExecutionResult

from casegraph.auth import AuthError
from casegraph.authentication import actor_of
from casegraph.fanout.connection_context import ConnectionContext, shared_actor
from casegraph.fanout.dispatcher import FanoutDispatcher
from casegraph.fanout.sessions import GuardedLegacyWSHandler, Session
from casegraph.fanout.transport_ws import LiveTransportWSHandler
from casegraph.fastpath.json_body import encode_body
from casegraph.graphql_caching import apply_http_semantics
from casegraph.graphql_http import (
    APPLICATION_JSON,
    GRAPHQL_RESPONSE_JSON,
    HTTP_ERROR_CODES,
    error_body,
    is_request_error,
    negotiate,
    status_for,
)
from casegraph.mail.catalogs import mail_languages
from casegraph.outages import (
    REQUESTS,
    RETRY_AFTER_SECONDS,
    SERVICE_UNAVAILABLE,
    Unavailable,
    is_outage,
    outage_response,
)
from casegraph.persisted_queries.protocol import PersistedQueryRefusal, resolve_document
from casegraph.rate_limits import ConnectionRateLimited
from casegraph.rate_limits.sockets import SocketLease, TooManySockets
from casegraph.runtime import Runtime
from casegraph.services.reply_addresses import reply_addresses
from casegraph.services.users import Claims
from schema import build_schema
from schema.context import Context

MAX_SUBSCRIPTIONS_PER_CONNECTION = 20
MULTIPART_FORM_DATA = "multipart/form-data"
# The WebSocket scope's key for the connection's lease (casegraph/rate_limits/sockets.py).
SOCKET_LEASE = "casegraph.socket_lease"


class CaseGraphView(GraphQL[Context, None]):
    # Tell a user over the connection rate limit "retry after N" (1013), not "Forbidden"; event
    # subscriptions over either protocol are followed, not iterated (casegraph/fanout); on both
    # protocols every operation is re-authorized (casegraph/fanout/sessions.py).
    graphql_transport_ws_handler_class = LiveTransportWSHandler
    graphql_ws_handler_class = GuardedLegacyWSHandler

    def __init__(
        self,
        runtime: Runtime,
        *,
        extra_extensions: Sequence[type[SchemaExtension] | Callable[[], SchemaExtension]] = (),
        **kwargs: Any,
    ) -> None:
        settings = runtime.settings
        schema = build_schema(
            production=settings.production,
            limits=settings.query_limits,
            batch_max_operations=settings.batch_max_operations,
            extra_extensions=extra_extensions,
            compiled_queries=settings.compiled_queries,
        )
        super().__init__(schema, **kwargs)
        self.runtime = runtime
        self.fanout = FanoutDispatcher(schema, gauge=runtime.metrics.active_subscriptions)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """HTTP refusals as GraphQL-shaped JSON with the status the GraphQL-over-HTTP spec asks for."""
        if scope["type"] != "http":
            try:
                await super().__call__(scope, receive, send)
            finally:
                # However the connection ended: its place among the user's open ones is free.
                lease: SocketLease | None = scope.pop(SOCKET_LEASE, None)
                if lease is not None:
                    await lease.release()
            return
        request = Request(scope=scope, receive=receive)
        media_type = negotiate(request.headers.get("accept"))
        request.state.media_type = media_type
        try:
            response = await self.run(request)
        except HTTPException as refusal:
            response = self._refusal_response(refusal, media_type or APPLICATION_JSON)
        except Exception as error:
            # Authentication reads and writes the database before GraphQL runs (get_context):
            # a database away is a 503 to retry, not a raw 500.
            if not is_outage(error):
                raise
            REQUESTS.failed(error)
            response = outage_response(media_type or APPLICATION_JSON)
        finally:
            # An upload's files (spooled to disk past 1 MiB) are the request's: closed, and so
            # deleted, as soon as the operation is done with them.
            await request.close()
        if not response.headers.get("content-type", "").startswith("text/html"):  # GraphiQL's page
            response = apply_http_semantics(
                response,
                method=request.method,
                request_headers=request.headers,
                has_errors=not isinstance(response, GraphQLAnswer) or response.has_errors,
            )
        await response(scope, receive, send)

    @staticmethod
    def _refusal_response(refusal: HTTPException, media_type: str) -> Response:
        status, headers = refusal.status_code, {"Vary": "Accept"}
        if isinstance(refusal.__cause__, InvalidOperationTypeError):
            # A mutation or subscription sent with GET: the method is wrong, not the request.
            status, headers["Allow"] = 405, "POST"
        code = HTTP_ERROR_CODES.get(status, "BAD_REQUEST")
        return JSONResponse(
            error_body(refusal.reason, code), status, headers=headers, media_type=f"{media_type}; charset=utf-8"
        )

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "POST":
            content_type, _ = parse_content_type(request.content_type or "")
            if content_type == MULTIPART_FORM_DATA:
                # File uploads (the GraphQL multipart request spec). A form on another site can post
                # multipart/form-data without asking (a "simple" request: the CSRF Strawberry warns
                # of); it cannot add an Authorization header, and a script that does must pass the
                # CORS preflight first. So a multipart request without one is refused unread.
                if not request.headers.get("authorization"):
                    raise HTTPException(401, "File uploads need an Authorization header.")
                try:
                    return await super().parse_http_body(request)
                except StarletteHTTPException as refusal:  # Starlette's own word on a broken body
                    raise HTTPException(400, f"Unable to parse the multipart body: {refusal.detail}") from None
            elif content_type != APPLICATION_JSON:
                raise HTTPException(415, "POST bodies must be application/json (multipart/form-data for uploads).")
        return await super().parse_http_body(request)

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        # Refused before anything runs: a mutation must not execute and then fail to be answered.
        if getattr(request.state, "media_type", APPLICATION_JSON) is None:
            raise HTTPException(406, f"Accept {GRAPHQL_RESPONSE_JSON} or {APPLICATION_JSON}.")
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        body = await super().process_result(request, result)
        if is_request_error(result.data is None, result.errors):
            # The specification: a request that failed before execution has no `data` entry.
            body.pop("data", None)
        return body

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        media_type = sub_response.media_type or APPLICATION_JSON
        # Strawberry's create_response, with orjson in place of the standard encoder.
        response = GraphQLAnswer(encode_body(response_data), media_type=APPLICATION_JSON)
        response.has_errors = _has_errors(response_data)
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        response.headers["content-type"] = f"{media_type}; charset=utf-8"
        response.headers["vary"] = "Accept"
        if not sub_response.status_code:  # a guard (e.g. the rate limiter) may have chosen one
            response.status_code = status_for(response_data, media_type)
        if _unavailable(response_data):
            # A resolver lost the database mid-request: as when authentication does, a 503 to retry.
            response.status_code = 503
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Persisted queries (``casegraph/persisted_queries``): a hash may stand for the text."""
        try:
            query = await resolve_document(
                mode=self.runtime.settings.persisted_queries,
                store=self.runtime.persisted_queries,
                query=request_data.query,
                extensions=request_data.extensions,
            )
        except PersistedQueryRefusal as refusal:
            if refusal.is_protocol_step:
                sub_response.status_code = 200
            return refusal.result()
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, replace(request_data, query=query)
        )

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET naming a persisted query by hash has no `query` either (that is how CDNs cache APQ).
        return "extensions" not in request.query_params and super().should_render_graphql_ide(request)

    def decode_json(self, data: str | bytes) -> object:
        """Strawberry turns only JSONDecodeError into a 400 (HTTP) or a 4400 close (WebSocket).

        Bad UTF-8 and absurd nesting would otherwise be 500s, or crash a WebSocket handler;
        report them as JSON errors. Valid JSON of another shape is the caller's to refuse:
        ``parse_json`` for HTTP, the protocol handlers (4400 with a reason) for WebSocket
        messages, which the legacy protocol would otherwise skip as unparsable.
        """
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as error:
            raise json.JSONDecodeError(f"not JSON: {type(error).__name__}", "", 0) from None

    def parse_json(self, data: str | bytes) -> Any:
        """HTTP bodies and query parameters: an object (or a batch's list), else 400."""
        decoded = super().parse_json(data)
        if not isinstance(decoded, (dict, list)):
            raise HTTPException(400, "Unable to parse request body as JSON")
        return decoded

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket | None) -> Context:
        runtime = self.runtime
        # A WebSocket's context lives as long as the connection: it makes its loaders on first use.
        context = (ConnectionContext if isinstance(request, WebSocket) else Context)(
            clock=runtime.clock,
            publisher=runtime.publisher,
            live=runtime.live,
            request=request,
            response=response,
            max_page_size=runtime.settings.query_limits.max_page_size,
            webhooks_may_target_private=runtime.settings.webhooks_may_target_private,
            reply_addresses=reply_addresses(runtime.settings),
            mail_languages=mail_languages(runtime.settings.mail_templates),
            mail_signing_secret=runtime.settings.mail_signing_secret,
            attachments=runtime.attachments,
        )
        if isinstance(request, WebSocket):
            context.over_websocket = True
            return context  # authenticated in on_ws_connect, from the connection_init payload
        if isinstance(response, Response):
            # create_response only sees the sub-response: it carries the negotiated media type.
            response.media_type = getattr(request.state, "media_type", None) or APPLICATION_JSON
        try:
            await self._authenticate(context, request.headers.get("authorization"))
        except AuthError as error:
            context.auth_error = str(error)
        return context

    async def on_ws_connect(self, context: Context) -> Any:
        try:
            return await self._connect(context)
        except Exception as error:
            # Authentication reads and writes the database, the limits may ask Redis: an outage
            # is "try again later" (1013), as HTTP answers 503, not an internal error.
            if not is_outage(error):
                raise
            REQUESTS.failed(error)
            raise ConnectionRateLimited(Unavailable()) from None

    async def _connect(self, context: Context) -> Any:
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        header = params.get("Authorization") or params.get("authorization")
        live = self.runtime.live
        # Before the memberships are read: the session may then remember them for its operations.
        read_at = live.access.epoch if live is not None else -1
        try:
            claims = await self._authenticate(context, header) if isinstance(header, str) else None
            if claims is None:
                raise AuthError("Send {'Authorization': 'Bearer <token>'} in connection_init.")
        except AuthError as error:
            raise ConnectionRejectionError({"message": str(error)}) from None
        assert context.actor is not None
        context.actor = shared_actor(context.actor)
        # The token has done its work; the connection need not hold it for hours.
        context.connection_params = {key: value for key, value in params.items() if key.lower() != "authorization"}
        limiter = self.runtime.rate_limiter
        refusal = await limiter.connection_by(context.actor.user_id)
        if refusal is not None:
            raise ConnectionRateLimited(refusal)
        # A repeated legacy connection_init must not take a second place for the same socket.
        if (
            limiter.sockets is not None
            and isinstance(context.request, WebSocket)
            and SOCKET_LEASE not in context.request.scope
        ):
            opened = await limiter.sockets.open(context.actor.user_id)
            if isinstance(opened, TooManySockets):
                raise ConnectionRateLimited(opened)
            if opened is not None:
                context.request.scope[SOCKET_LEASE] = opened
        if isinstance(context, ConnectionContext) and isinstance(context.request, WebSocket):
            context.session = Session(
                token_actor=context.actor,
                valid_until=claims.valid_until,
                closer=_closer(context.request),
                board=live.access if live is not None else None,
                read_at=read_at,
                session=claims.session,
            )
        return None

    async def _authenticate(self, context: Context, header: str | None) -> Claims | None:
        claims = await self.runtime.verifier.verify(header)
        if claims is None:
            return None
        context.actor = await actor_of(self.runtime, claims)
        REQUESTS.succeeded()
        context.forget_loaders()
        return claims


def _closer(websocket: WebSocket) -> Callable[[int, str], Awaitable[None]]:
    async def close(code: int, reason: str) -> None:
        await websocket.close(code=code, reason=reason)

    return close


class GraphQLAnswer(Response):
    """A GraphQL response body, and whether it holds errors (they are never cached)."""

    has_errors: bool = True


def _has_errors(response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse]) -> bool:
    bodies = response_data if isinstance(response_data, list) else [response_data]
    return any(body.get("errors") for body in bodies)


def _unavailable(response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse]) -> bool:
    bodies = response_data if isinstance(response_data, list) else [response_data]
    for body in bodies:
        for error in body.get("errors") or ():
            extensions = error.get("extensions") if isinstance(error, dict) else None
            if isinstance(extensions, dict) and extensions.get("code") == SERVICE_UNAVAILABLE:
                return True
    return False
