"""The ASGI application: GraphQL over HTTP and WebSocket, health and readiness."""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import os
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.extensions import SchemaExtension
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from tortoise.connection import get_connection
from tortoise.contrib.starlette import RegisterTortoise

from casegraph.auth import AuthError, TokenVerifier
from casegraph.clock import Clock, utc_now
from casegraph.db import tortoise_config
from casegraph.domain.enums import ErrorCode
from casegraph.domain.errors import DomainError
from casegraph.events.live import LiveEvents
from casegraph.services.email_intake import receive_email
from casegraph.services.publisher import NullPublisher, Publisher
from casegraph.services.users import build_actor, provision
from casegraph.settings import Settings
from casegraph.sla_scheduler import SlaScheduler
from resolvers.loaders import Loaders
from schema import build_schema
from schema.context import Context

log = logging.getLogger("casegraph")

MAX_SUBSCRIPTIONS_PER_CONNECTION = 20


@dataclass
class Runtime:
    """What the lifespan sets up and requests use; tests may fill it in directly."""

    settings: Settings
    verifier: TokenVerifier
    clock: Clock = utc_now
    publisher: Publisher = field(default_factory=NullPublisher)
    live: LiveEvents | None = None


class CaseGraphView(GraphQL[Context, None]):
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
        )
        super().__init__(schema, **kwargs)
        self.runtime = runtime

    def decode_json(self, data: str | bytes) -> object:
        """Strawberry turns only JSONDecodeError into a 400 (HTTP) or a 4400 close (WebSocket).

        Bad UTF-8, absurd nesting and bodies that are not objects would otherwise be 500s, or
        crash a WebSocket handler; report them all as JSON errors.
        """
        try:
            decoded = json.loads(data)
        except (ValueError, RecursionError) as error:
            raise json.JSONDecodeError(f"not JSON: {type(error).__name__}", "", 0) from None
        if not isinstance(decoded, (dict, list)):
            raise json.JSONDecodeError("a JSON object is required", "", 0)
        return decoded

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket | None) -> Context:
        runtime = self.runtime
        context = Context(
            clock=runtime.clock, publisher=runtime.publisher, live=runtime.live, request=request, response=response
        )
        if isinstance(request, WebSocket):
            return context  # authenticated in on_ws_connect, from the connection_init payload
        try:
            await self._authenticate(context, request.headers.get("authorization"))
        except AuthError as error:
            context.auth_error = str(error)
        return context

    async def on_ws_connect(self, context: Context) -> Any:
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        header = params.get("Authorization") or params.get("authorization")
        try:
            if not isinstance(header, str) or not await self._authenticate(context, header):
                raise AuthError("Send {'Authorization': 'Bearer <token>'} in connection_init.")
        except AuthError as error:
            raise ConnectionRejectionError({"message": str(error)}) from None
        return None

    async def _authenticate(self, context: Context, header: str | None) -> bool:
        claims = await self.runtime.verifier.verify(header)
        if claims is None:
            return False
        await provision(claims=claims, now=self.runtime.clock())
        context.actor = await build_actor(claims)
        context.loaders = Loaders(context.actor)
        return True


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


def readyz_endpoint(runtime: Runtime) -> Any:
    async def readyz(request: Request) -> Response:
        checks: dict[str, str] = {}
        try:
            await get_connection("default").execute_query("SELECT 1")
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - readiness reports, never raises
            checks["database"] = f"unavailable: {type(exc).__name__}"
        if runtime.live is not None:
            checks["broadcast"] = "ok" if runtime.live.healthy else "unavailable: reconnecting"
        elif not isinstance(runtime.publisher, NullPublisher):
            checks["broadcast"] = "ok"  # a test-injected publisher
        else:
            checks["broadcast"] = "unavailable: not started"
        ready = all(value == "ok" for value in checks.values())
        # The pid tells operators (and tests) which worker of `serve --workers N` answered.
        body = {"ready": ready, "checks": checks, "pid": os.getpid()}
        return JSONResponse(body, status_code=200 if ready else 503)

    return readyz


def email_intake_endpoint(runtime: Runtime) -> Any:
    """POST a raw RFC 822 message with ``X-Casegraph-Intake-Secret``; 404 while intake is off."""

    async def email_intake(request: Request) -> Response:
        secret = runtime.settings.intake_secret
        if secret is None:
            return JSONResponse({"error": {"code": "NOT_FOUND", "message": "E-mail intake is not enabled."}}, 404)
        given = request.headers.get("x-casegraph-intake-secret", "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return JSONResponse({"error": {"code": "UNAUTHENTICATED", "message": "Wrong intake secret."}}, 401)
        raw = await request.body()
        try:
            result = await receive_email(
                raw=raw, intake_case_type=runtime.settings.intake_case_type, now=runtime.clock(),
                publisher=runtime.publisher,
            )
        except DomainError as refusal:
            status = 404 if refusal.code is ErrorCode.NOT_FOUND else 400
            error = {"code": refusal.code.value, "message": refusal.message, "field": refusal.field}
            return JSONResponse({"error": error}, status)
        body = {"action": result.action, "caseId": result.case_id, "number": result.number}
        return JSONResponse(body, 201 if result.action == "created" else 200)

    return email_intake


def schema_extensions(runtime: Runtime) -> list[type[SchemaExtension] | Callable[[], SchemaExtension]]:
    """The application's own guards and instruments around each operation, in order."""
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = []
    return extensions


def create_app(
    settings: Settings | None = None,
    *,
    manage_resources: bool = True,
    runtime: Runtime | None = None,
) -> Starlette:
    """Build the application.

    Parameters:
        settings: configuration; read from the environment when omitted.
        manage_resources: when True the lifespan opens the database and the broadcast channel;
            tests that bring their own Tortoise context pass False.
        runtime: pre-built runtime (tests inject a clock or publisher through it).
    """
    settings = settings or Settings.from_env()
    runtime = runtime or Runtime(settings=settings, verifier=TokenVerifier(settings))
    problem = settings.production_problem()
    if problem is not None:
        raise RuntimeError(problem)
    if settings.uses_dev_secret:
        log.warning("Using the DEVELOPMENT JWT secret: anyone can mint tokens. Set CASEGRAPH_JWT_SECRET.")

    view = CaseGraphView(
        runtime,
        extra_extensions=schema_extensions(runtime),
        graphql_ide=None if settings.production else "graphiql",
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        connection_init_wait_timeout=timedelta(seconds=30),
        max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
        allowed_origins=settings.allowed_origins,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not manage_resources:
            yield
            return
        config = tortoise_config(settings.database_url)
        async with RegisterTortoise(app, config=config, generate_schemas=False):
            live = LiveEvents(settings.broadcast_url)
            await live.start()
            runtime.live = live
            runtime.publisher = live
            sla = SlaScheduler(interval=settings.sla_interval, clock=runtime.clock, publisher=lambda: runtime.publisher)
            await sla.start()
            try:
                yield
            finally:
                await sla.stop()
                # Close live feeds first so open subscriptions end and the server can exit.
                await live.stop()
                runtime.live = None
                runtime.publisher = NullPublisher()

    routes = [
        Route("/graphql", view, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        Route("/healthz", healthz),
        Route("/readyz", readyz_endpoint(runtime)),
        Route("/intake/email", email_intake_endpoint(runtime), methods=["POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.runtime = runtime
    return app


def create_app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory casegraph.app:create_app_from_env`` (and ``serve``)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return create_app()
