"""The ASGI application: routes, middleware and the lifespan that opens and closes resources."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute
from strawberry.extensions import SchemaExtension
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from tortoise.contrib.starlette import RegisterTortoise
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from casegraph._compat.starlette_websocket_route import DirectWebSocketRoute
from casegraph.attachment_downloads import PASS_PATH as DOWNLOAD_PASS_PATH
from casegraph.attachment_downloads import PATH as ATTACHMENT_PATH
from casegraph.attachment_downloads import attachment_download_endpoint, download_pass_endpoint
from casegraph.auth import TokenVerifier
from casegraph.body_limit import BodyLimit
from casegraph.composition import install_case_extensions, periodic_workers
from casegraph.db import tortoise_config
from casegraph.endpoints import email_intake_endpoint, healthz, readyz_endpoint
from casegraph.events.live import LiveEvents
from casegraph.graphql_view import MAX_SUBSCRIPTIONS_PER_CONNECTION, CaseGraphView
from casegraph.mail.catalogs import CatalogError, mail_languages
from casegraph.mail.dispatcher import SIGN_IN_PATH, UNSUBSCRIBE_PATH
from casegraph.mail.unsubscribe import unsubscribe_endpoint
from casegraph.mail.wiring import mail_dispatcher
from casegraph.observability.logs import configure_logging
from casegraph.observability.metrics import forget_this_process
from casegraph.observability.metrics_endpoint import metrics_endpoint
from casegraph.observability.middleware import ObservabilityMiddleware
from casegraph.observability.operations import operation_instruments
from casegraph.observability.tracing import otlp_tracer_provider, tracing_extension
from casegraph.oidc_pages import oidc_routes
from casegraph.outbox_dispatcher import OutboxDispatcher
from casegraph.pages import page_catalogs
from casegraph.persisted_queries.gate import AllowListGate
from casegraph.persisted_queries.protocol import ALLOWLIST
from casegraph.rate_limits import ConnectionRateLimit, MutationRateLimit
from casegraph.runtime import Runtime
from casegraph.services.publisher import NullPublisher
from casegraph.settings import DEV_SECRET, Settings
from casegraph.sign_in_pages import (
    REFRESH_PATH,
    SIGN_OUT_PATH,
    refresh_endpoint,
    sign_in_link_endpoint,
    sign_out_endpoint,
)
from casegraph.sla_scheduler import SlaScheduler
from casegraph.web import web_routes

__all__ = ["CaseGraphView", "Runtime", "create_app", "create_app_from_env", "schema_extensions"]

log = logging.getLogger("casegraph")
# Allocations (net of frees) between young-generation collections; the default is 700.
GC_YOUNG_THRESHOLD = 20_000
# Bytes of a multipart upload request besides the file: its boundaries, headers and operation.
MULTIPART_ALLOWANCE = 64 * 1024


def schema_extensions(runtime: Runtime) -> list[type[SchemaExtension] | Callable[[], SchemaExtension]]:
    """The application's own guards and instruments around each operation, in order."""
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = []
    # Instruments first: their on_operation wraps the others', so they see each final result.
    if runtime.tracer_provider is not None:
        extensions.append(tracing_extension(runtime.tracer_provider))
    extensions.append(operation_instruments(runtime.metrics))
    if runtime.settings.persisted_queries == ALLOWLIST:
        extensions.append(lambda: AllowListGate(runtime.persisted_queries))
    extensions.append(lambda: MutationRateLimit(runtime.rate_limiter))
    return extensions


def settle_garbage_collector() -> None:
    """Once the application is loaded: move everything alive now (modules, schema, plans) out of
    the collector's sight, and collect the young generation less often. A request allocates
    thousands of short-lived objects, nearly none in cycles; the default thresholds ran a
    collection every few hundred allocations, and each full one walked the whole heap — the
    latency tail under load (README, Performance)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


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
    install_case_extensions()
    runtime = runtime or Runtime(settings=settings, verifier=TokenVerifier(settings))
    problem = settings.startup_problem()
    if problem is not None:
        raise RuntimeError(problem)
    try:
        # An agency's broken catalogue (of mails or of pages): refused before serving.
        mail_languages(settings.mail_templates)
        page_catalogs(settings.mail_templates)
    except CatalogError as broken:
        raise RuntimeError(str(broken)) from None
    if settings.uses_dev_secret:
        log.warning("Using the DEVELOPMENT JWT secret: anyone can mint tokens. Set CASEGRAPH_JWT_SECRET.")
    elif settings.mail_signing_secret == DEV_SECRET:
        # Identity-provider tokens leave no secret of ours. A download still needs the user's own
        # token and is re-authorized when used; only the link's expiry rests on this signature.
        log.warning(
            "Attachment download links are signed with the development secret: set CASEGRAPH_MAIL_SECRET "
            "so that their expiry cannot be forged."
        )
    if settings.otel_endpoint is not None and runtime.tracer_provider is None:
        # Raises, naming `pip install casegraph[otel]`, when the packages are missing.
        runtime.tracer_provider = otlp_tracer_provider(settings.otel_endpoint)

    view = CaseGraphView(
        runtime,
        extra_extensions=schema_extensions(runtime),
        # GraphiQL loads its code from a CDN and runs inline script: development on loopback only.
        graphql_ide="graphiql" if settings.development_tools else None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        connection_init_wait_timeout=timedelta(seconds=30),
        max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
        allowed_origins=settings.allowed_origins,
        # File uploads (addAttachment); graphql_view.parse_http_body keeps them from other sites.
        multipart_uploads_enabled=True,
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
            outbox = OutboxDispatcher(
                interval=settings.outbox_interval,
                clock=runtime.clock,
                agency_code=settings.agency_code,
                publisher=lambda: runtime.publisher,
                allow_private=settings.webhooks_may_target_private,
            )
            await outbox.start()
            mail = mail_dispatcher(settings, clock=runtime.clock)
            await mail.start()
            workers = periodic_workers(runtime.attachments, runtime.clock, lambda: runtime.publisher)
            for worker in workers:
                await worker.start()
            settle_garbage_collector()
            try:
                yield
            finally:
                for worker in workers:
                    await worker.stop()
                await mail.stop()
                await outbox.stop()
                await sla.stop()
                # Close live feeds first so open subscriptions end and the server can exit.
                await live.stop()
                runtime.live = None
                runtime.publisher = NullPublisher()
                # Its Redis connections (if any) belong to this event loop.
                await runtime.rate_limiter.close()
                if runtime.tracer_provider is not None:
                    runtime.tracer_provider.shutdown()  # sends the spans still batched
                forget_this_process()

    graphql_socket = ConnectionRateLimit(view, lambda: runtime.rate_limiter, view.websocket_subprotocols)
    routes = [
        Route("/graphql", view, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_socket),
        Route("/healthz", healthz),
        Route("/readyz", readyz_endpoint(runtime)),
        Route("/intake/email", email_intake_endpoint(runtime), methods=["POST"]),
        Route(UNSUBSCRIBE_PATH, unsubscribe_endpoint(runtime), methods=["GET", "POST"]),
        Route(SIGN_IN_PATH, sign_in_link_endpoint(runtime), methods=["GET", "POST"]),
        Route(REFRESH_PATH, refresh_endpoint(runtime), methods=["POST"]),
        Route(SIGN_OUT_PATH, sign_out_endpoint(runtime), methods=["POST"]),
        *oidc_routes(runtime),
        # Before the file route: "session" is no attachment's id.
        Route(DOWNLOAD_PASS_PATH, download_pass_endpoint(runtime), methods=["POST", "DELETE"]),
        Route(ATTACHMENT_PATH, attachment_download_endpoint(runtime), methods=["GET"]),
        *web_routes(settings),
        Route(
            "/metrics",
            metrics_endpoint(
                runtime.metrics, token=settings.metrics_token, hub=lambda: runtime.live.hub if runtime.live else None
            ),
        ),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    # Added innermost first. Inside the observability layer, ahead of the router
    # (casegraph/_compat/starlette_websocket_route.py).
    app.add_middleware(DirectWebSocketRoute, path="/graphql", endpoint=graphql_socket)
    app.add_middleware(
        BodyLimit,
        default=settings.max_body_bytes,
        per_path={"/intake/email": settings.max_intake_bytes},
        # An upload: the file's limit and room for the multipart framing and the operation.
        multipart={"/graphql": settings.attachment_max_bytes + MULTIPART_ALLOWANCE},
    )
    # Outside the body limit, so a page on an allowed origin can read its 413 too. Bearer tokens,
    # never cookies: no credentials mode, and the list has no wildcard (Settings refuses one).
    # WebSocket handshakes are checked against the same list by the view (allowed_origins).
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=("GET", "POST"),
        allow_headers=("Authorization", "Content-Type", "If-None-Match"),
        # ETag for scripts that revalidate themselves; WWW-Authenticate says "refresh the token".
        expose_headers=("Retry-After", "X-Request-ID", "ETag", "WWW-Authenticate"),
    )
    app.add_middleware(ObservabilityMiddleware, metrics=runtime.metrics)
    # Outermost, so logs, rate limits and intake all see the client a trusted proxy forwarded
    # (casegraph.client_address); without trusted proxies X-Forwarded-For is never read.
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    app.state.runtime = runtime
    return app


def create_app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory casegraph.app:create_app_from_env`` (and ``serve``)."""
    settings = Settings.from_env()
    configure_logging(settings)
    return create_app(settings)
