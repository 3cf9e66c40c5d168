"""Shared fixtures: a fresh database per test on each backend, the ASGI app, people and tokens.

Every database test runs on SQLite and on PostgreSQL (``CASEGRAPH_TEST_BACKENDS`` narrows it).
PostgreSQL comes from ``CASEGRAPH_TEST_POSTGRES_URL`` (``make test`` and CI start a private server
via ``scripts/with-test-services``); in CI a missing server fails the run instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from strawberry import Schema
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext

from casegraph.app import Runtime, create_app
from casegraph.auth import TokenVerifier
from casegraph.composition import install_case_extensions
from casegraph.database.counters import ensure_counters
from casegraph.db import tortoise_config
from casegraph.events.live import LiveEvents
from casegraph.services.users import forget_provisioned
from casegraph.settings import RateLimits, Settings, parse_switch
from schema import build_schema
from tests.helpers import FakeClock, GraphQLClient, RecordingPublisher, World, apply_raw_sql_migrations, build_world
from tests.services.clamd_server import ClamdServer, clamd_binary
from tests.services.object_store_server import CREDENTIALS as S3_CREDENTIALS
from tests.services.object_store_server import ObjectStoreServer

T = TypeVar("T")
TEST_SECRET = "test-secret-for-casegraph-tests-only"
BACKENDS = [b.strip() for b in os.environ.get("CASEGRAPH_TEST_BACKENDS", "sqlite,postgres").split(",") if b.strip()]
IN_CI = os.environ.get("CI") == "true"
_pg_database: dict[str, str] = {}


def postgres_admin_url() -> str | None:
    return os.environ.get("CASEGRAPH_TEST_POSTGRES_URL")


def require_postgres() -> str:
    url = postgres_admin_url()
    if url is None:
        if IN_CI:
            pytest.fail("CI must provide CASEGRAPH_TEST_POSTGRES_URL (scripts/with-test-services)")
        pytest.skip("PostgreSQL not available: run `make test` to start a private test server")
    return url


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def _create_pg_database_named(name: str) -> str:
    """An empty database on the test server; returns its URL."""
    import asyncpg

    admin = require_postgres()
    connection = await asyncpg.connect(admin.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return _with_database(admin, name)


async def _drop_pg_database(name: str) -> None:
    import asyncpg

    admin = postgres_admin_url()
    assert admin is not None
    connection = await asyncpg.connect(admin.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def _create_pg_database() -> str:
    """One database per test session, schema applied by our real migrations."""
    from casegraph.db import migrate

    require_postgres()
    forget_backend_caches()
    url = await _create_pg_database_named(f"casegraph_test_{os.getpid()}_{uuid.uuid4().hex[:6]}")
    await migrate(url)
    return url


@pytest.fixture(scope="session", autouse=True)
def case_extensions() -> None:
    """Tests call services without an app: install the checks and hooks as every process does."""
    install_case_extensions()


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """Created lazily and dropped at the end of the session.

    Its set-up runs on a loop of its own in a worker thread: it is first requested from inside
    a test's running loop, where ``asyncio.run`` is not allowed.
    """
    url = _run_in_thread(_create_pg_database)
    yield url

    _run_in_thread(lambda: _drop_pg_database(url.rpartition("/")[2]))


def _run_in_thread(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


TABLES = (
    "oidc_flows",
    "user_identities",
    "browser_sessions",
    "sign_in_links",
    "mail_deliveries",
    "outbox_deliveries",
    "webhook_endpoints",
    "referral_updates",
    "referrals",
    "partner_agencies",
    "case_steps",
    "case_intakes",
    "service_definitions",
    "case_templates",
    "playbook_steps",
    "playbooks",
    "case_type_requirements",
    "case_alerts",
    "case_timers",
    "sla_policies",
    "sla_settings",
    "self_service_reads",
    "self_service_drafts",
    "case_article_links",
    "kb_article_terms",
    "kb_articles",
    "notifications",
    "idempotency_records",
    "surveys",
    "case_tasks",
    "attachments",
    "work_notes",
    "comments",
    "cases",
    "case_search",
    "case_counts",
    "case_types",
    "group_memberships",
    "assignment_groups",
    "users",
    "counters",
    "rate_limit_buckets",
    "persisted_queries",
)
# case_events refuses DELETE (a trigger keeps the audit log append-only); TRUNCATE is not a row
# change, and emptying the log between tests is exactly what the trigger must not allow elsewhere.
CLEAR_TABLES_SQL = "TRUNCATE case_events; " + "; ".join(f"DELETE FROM {table}" for table in TABLES)


def forget_backend_caches() -> None:
    """Per-process caches that must not carry over from one test database to the next.

    Tortoise caches INSERT statements per (connection name, table), not per dialect, so a
    PostgreSQL test after a SQLite one would reuse '?' placeholders without this.
    """
    EXECUTOR_CACHE.clear()
    forget_provisioned()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def db(backend: str, request: pytest.FixtureRequest) -> AsyncIterator[TortoiseContext]:
    """A fresh, migrated-equivalent database for one test, as the current Tortoise context."""
    forget_backend_caches()
    if backend == "postgres":
        url = request.getfixturevalue("pg_database_url")
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(url))
            # DELETE, children first: on these tiny tables it is ~40x cheaper than TRUNCATE.
            await ctx.db().execute_script(CLEAR_TABLES_SQL)
            await ensure_counters()
            yield ctx
    else:
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config("sqlite://:memory:"))
            await ctx.generate_schemas(safe=False)
            await apply_raw_sql_migrations(ctx.db())
            await ensure_counters()
            yield ctx
    forget_provisioned()


@pytest.fixture
def settings() -> Settings:
    # Rate limits are off here: tests drive many operations quickly; their own tests turn them on.
    # In process, as a developer's server on loopback (GraphiQL on).
    # CASEGRAPH_COMPILED_QUERIES=off runs the suite without the compiled path (`make test` does,
    # for tests/graphql): every answer must be the same without it.
    compiled = parse_switch("CASEGRAPH_COMPILED_QUERIES", os.environ.get("CASEGRAPH_COMPILED_QUERIES"), True)
    return Settings(
        jwt_secret=TEST_SECRET, bind_host="127.0.0.1", rate_limits=RateLimits.off(), compiled_queries=compiled
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC), step=timedelta(seconds=1))


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def runtime(settings: Settings, clock: FakeClock, publisher: RecordingPublisher) -> Runtime:
    return Runtime(settings=settings, verifier=TokenVerifier(settings), clock=clock, publisher=publisher)


@pytest.fixture
async def client(db: TortoiseContext, settings: Settings, runtime: Runtime) -> AsyncIterator[GraphQLClient]:
    """GraphQL over real HTTP semantics against the ASGI app (httpx, no lifespan: db is ours)."""
    app = create_app(settings, manage_resources=False, runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield GraphQLClient(http, settings)


@pytest.fixture
async def world(db: TortoiseContext, clock: FakeClock) -> World:
    """Two groups, staff and constituents, one case type per workflow (see helpers.build_world)."""
    return await build_world(clock)


# --- live events (tests/events/, tests/fanout/) -------------------------------------------------


@pytest.fixture
async def live(db: TortoiseContext) -> AsyncIterator[LiveEvents]:
    """A running in-memory LiveEvents."""
    events = LiveEvents("memory://", poll_interval=0.05)
    await events.start()
    yield events
    await events.stop()


@pytest.fixture(scope="module")
def schema() -> Schema:
    built = build_schema()
    assert isinstance(built, Schema)
    return built


# --- attachments' outside services (issue 18): an S3-compatible server and clamd ------------------


@pytest.fixture(scope="session")
def object_store_server() -> Iterator[ObjectStoreServer]:
    """moto's S3 server on loopback for the whole session; botocore finds its credentials in the
    environment, as a deployment's would."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in S3_CREDENTIALS.items():
            patch.setenv(name, value)
        server = ObjectStoreServer()
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="session")
def clamd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClamdServer]:
    """A real clamd with the EICAR signature only, for the whole session."""
    binary = clamd_binary()
    if binary is None:
        if IN_CI:
            pytest.fail("CI must install clamav-daemon (.ci/run)")
        pytest.skip("clamd not installed: apt-get install clamav-daemon")
    server = ClamdServer(tmp_path_factory.mktemp("clamd"), binary)
    server.start()
    try:
        yield server
    finally:
        server.stop()
