"""The ``casegraph`` command: serve, migrate, seed-demo, token, export-schema, persisted-queries, mail."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from dataclasses import replace

from casegraph.composition import install_case_extensions
from casegraph.domain.enums import Role
from casegraph.mail.command_line import add_mail_command
from casegraph.persisted_queries.command_line import add_persisted_queries_command
from casegraph.settings import BIND_HOST_VARIABLE, Settings


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from casegraph.observability.logs import configure_logging, logging_config
    from casegraph.observability.tracing import otel_problem
    from casegraph.observability.worker_metrics import shared_metrics_directory

    settings = replace(settings, bind_host=args.host)
    problem = settings.startup_problem() or (otel_problem() if settings.otel_endpoint else None)
    if problem is not None:
        print(f"refusing to start: {problem}", file=sys.stderr)
        return 2
    # The workers build their settings from the environment: this is how they learn the address,
    # which decides whether the development secret, GraphiQL and /dev/demo-users may be served.
    os.environ[BIND_HOST_VARIABLE] = args.host
    configure_logging(settings)
    # Schema first, once, before any worker starts: an empty database just works.
    asyncio.run(_migrate(settings.database_url))
    if settings.database_url.startswith("sqlite") and args.workers > 1:
        print("note: SQLite with several workers serializes writes through file locks", file=sys.stderr)
    with shared_metrics_directory(args.workers):
        uvicorn.run(
            "casegraph.app:create_app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            # The application installs uvicorn's proxy-header middleware itself, trusting only
            # CASEGRAPH_TRUSTED_PROXIES (casegraph.client_address); uvicorn's own would believe
            # X-Forwarded-For from any loopback peer.
            proxy_headers=False,
            # A WebSocket protocol holding little per idle connection, without per-message
            # deflate (casegraph/_compat/uvicorn_websockets_sansio.py).
            ws="casegraph._compat.uvicorn_websockets_sansio:LeanWebSocketProtocol",
            ws_per_message_deflate=False,
            lifespan="on",
            # Workers apply the same logging set-up; requests are logged by casegraph.access.
            log_config=logging_config(settings),
            access_log=False,
        )
    return 0


async def _migrate(database_url: str) -> None:
    from tortoise import Tortoise

    from casegraph.db import migrate

    try:
        await migrate(database_url)
    finally:
        await Tortoise.close_connections()


def _migrate_cmd(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(_migrate(settings.database_url))
    print(f"migrated {settings.database_url}")
    return 0


def _seed_demo(args: argparse.Namespace, settings: Settings) -> int:
    from casegraph.demo import print_tokens, seed_demo

    seeded = asyncio.run(seed_demo(settings.database_url))
    print("demo data loaded" if seeded else "database already has data: demo data left as it is")
    print_tokens(settings)
    return 0


def _token(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta

    from casegraph.auth import issue_token

    roles = [Role(r) for r in args.role]
    print(
        issue_token(
            settings,
            sub=args.sub,
            roles=roles,
            name=args.name,
            email=args.email,
            agency=args.agency,
            ttl=timedelta(days=args.days),
        )
    )
    return 0


def _export_schema(args: argparse.Namespace, settings: Settings) -> int:
    from schema import build_schema
    from schema.public_sdl import public_sdl

    schema = build_schema()
    sys.stdout.write((public_sdl(schema) if args.public else schema.as_str()) + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="casegraph", description="Case-management GraphQL backend.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="apply migrations, then serve HTTP and WebSocket")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("CASEGRAPH_WORKERS") or 1),
        help="server processes (default: CASEGRAPH_WORKERS or 1)",
    )
    serve.set_defaults(func=_serve)

    sub.add_parser("migrate", help="apply pending schema migrations").set_defaults(func=_migrate_cmd)
    sub.add_parser("seed-demo", help="load demo data into an empty database; print tokens").set_defaults(
        func=_seed_demo
    )

    token = sub.add_parser("token", help="print a signed development JWT (HS256)")
    token.add_argument("--sub", required=True)
    token.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    token.add_argument("--name")
    token.add_argument("--email")
    token.add_argument("--agency")
    token.add_argument("--days", type=int, default=30)
    token.set_defaults(func=_token)

    export = sub.add_parser("export-schema", help="print the GraphQL SDL (the federation subgraph's)")
    export.add_argument(
        "--public",
        action="store_true",
        help="plain GraphQL without federation's directives and fields (schema.public.graphql)",
    )
    export.set_defaults(func=_export_schema)
    add_persisted_queries_command(sub)
    add_mail_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ValueError as problem:
        # A mistyped setting is refused with what to fix, not a traceback.
        print(f"refusing to start: {problem}", file=sys.stderr)
        return 2
    # Every command may change cases (seed-demo) or serve them: the hooks come first.
    install_case_extensions()
    return int(args.func(args, settings))


if __name__ == "__main__":
    raise SystemExit(main())
