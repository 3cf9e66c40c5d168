"""Live-test support: real server processes, a GraphQL-over-WebSocket client, a small world.

Everything here talks to servers the way clients do: ``casegraph serve`` in a subprocess on a free
loopback port, GraphQL over HTTP with httpx, subscriptions over ``graphql-transport-ws`` (or the
legacy ``graphql-ws``) with the ``websockets`` library. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final, TypeVar

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin, Subprotocol

from casegraph.auth import issue_token
from casegraph.domain.enums import Role
from casegraph.settings import Settings
from tests.conftest import IN_CI, TEST_SECRET, require_postgres

T = TypeVar("T")

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
TRANSPORT_WS: Final = "graphql-transport-ws"
LEGACY_WS: Final = "graphql-ws"
START_TIMEOUT: Final = 40.0
STOP_TIMEOUT: Final = 10.0
EVENT_TIMEOUT: Final = 10.0

EVENT_FIELDS: Final = "id sequence type action version toStatus case { id title requester { id } }"


# --------------------------------------------------------------------------------------------
# Plumbing


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on a loop of its own (safe inside or outside a running loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def require_redis() -> str:
    url = os.environ.get("CASEGRAPH_TEST_REDIS_URL")
    if url is None:
        if IN_CI:
            pytest.fail("CI must provide CASEGRAPH_TEST_REDIS_URL (scripts/with-test-services)")
        pytest.skip("Redis not available: run `make test` to start a private test server")
    return url


def require_redis_server_binary() -> str:
    require_redis()
    binary = shutil.which("redis-server")
    if binary is None:
        if IN_CI:
            pytest.fail("CI must have redis-server installed (.ci/run)")
        pytest.skip("redis-server is not installed")
    return binary


# --------------------------------------------------------------------------------------------
# Server processes


def _server_env(extra: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEGRAPH_")}
    env.update(extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def server_env(
    *, database_url: str, broadcast_url: str = "memory://", secret: str = TEST_SECRET, **more: str
) -> dict[str, str]:
    env = {
        "CASEGRAPH_DATABASE_URL": database_url,
        "CASEGRAPH_BROADCAST_URL": broadcast_url,
        "CASEGRAPH_JWT_SECRET": secret,
        # Tests drive hundreds of operations from one address; the limits have tests of their own.
        "CASEGRAPH_RATE_LIMITS": "off",
    }
    env.update({f"CASEGRAPH_{key.upper()}": value for key, value in more.items()})
    return env


@dataclass
class ServerProcess:
    """One ``casegraph serve`` process on loopback; its output goes to ``log_path``."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_file.closed:
            self.log_file.flush()
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = STOP_TIMEOUT) -> float:
        """SIGTERM, then SIGKILL after ``timeout``; returns seconds to exit, asserts it exited by itself."""
        started = time.monotonic()
        killed = False
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    killed = True
                    self.process.kill()
                    self.process.wait(10)
        finally:
            self.log_file.close()
        elapsed = time.monotonic() - started
        assert self.process.returncode is not None, f"server {self.name} is still running"
        assert not killed, f"server {self.name} ignored SIGTERM for {timeout}s:\n{self.log_tail()}"
        return elapsed


def start_server(
    name: str, env: dict[str, str], workdir: Path, *, wait_ready: bool = False, port: int | None = None
) -> ServerProcess:
    """Start ``casegraph serve`` on a free port (or ``port``, to restart a server where clients
    expect it) and wait for ``/healthz`` (and ``/readyz``).

    A port found free can be taken by someone else before the server binds it: then try another.
    """
    for attempt in range(3):
        try:
            return _start_server_once(name, env, workdir, wait_ready=wait_ready, port=port)
        except PortTaken:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@contextlib.contextmanager
def sqlite_server(tmp_path_factory: pytest.TempPathFactory, name: str, **env: str) -> Iterator[ServerProcess]:
    """``casegraph serve`` on a fresh SQLite file (``server_env`` with ``env``), for a test module."""
    workdir = tmp_path_factory.mktemp(name)
    process = start_server(name, server_env(database_url=f"sqlite://{workdir / 'casegraph.sqlite3'}", **env), workdir)
    try:
        yield process
    finally:
        process.stop()


def live_world(server: ServerProcess) -> LiveWorld:
    """``set_up_world`` on a running server, from synchronous (module-scoped) fixtures."""
    return run_sync(lambda: set_up_world(server.http_url))


class PortTaken(AssertionError):
    pass


def _start_server_once(
    name: str, env: dict[str, str], workdir: Path, *, wait_ready: bool, port: int | None = None
) -> ServerProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log_path = workdir / f"{name}-{port}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "casegraph.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=_server_env(env),
        cwd=workdir,  # no stray .env or casegraph.sqlite3 from the checkout
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    server = ServerProcess(name=name, port=port, process=process, log_path=log_path, log_file=log_file)
    try:
        wait_for_status(server, "/healthz", 200, timeout=START_TIMEOUT)
        if wait_ready:
            wait_for_status(server, "/readyz", 200, timeout=START_TIMEOUT)
    except BaseException:
        with contextlib.suppress(AssertionError):
            server.stop()
        if "address already in use" in server.log_tail().lower():
            raise PortTaken(f"port {port} was taken") from None
        raise
    return server


def wait_for_status(server: ServerProcess, path: str, status: int, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last: str = "no answer"
    with httpx.Client(base_url=server.http_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise AssertionError(
                    f"server {server.name} exited with {server.process.returncode}:\n{server.log_tail()}"
                )
            try:
                response = client.get(path)
                if response.status_code == status:
                    return
                last = f"{response.status_code} {response.text}"
            except httpx.TransportError as error:
                last = repr(error)
            time.sleep(0.1)
    raise AssertionError(f"{server.name}{path} not {status} within {timeout}s (last: {last}):\n{server.log_tail()}")


async def wait_for_status_async(server: ServerProcess, path: str, status: int, *, timeout: float) -> float:
    """Poll ``path`` until it answers ``status``; returns the seconds it took."""
    started = time.monotonic()
    last = "no answer"
    async with httpx.AsyncClient(base_url=server.http_url, timeout=2.0) as client:
        while time.monotonic() - started < timeout:
            try:
                response = await client.get(path)
                if response.status_code == status:
                    return time.monotonic() - started
                last = f"{response.status_code} {response.text}"
            except httpx.TransportError as error:
                last = repr(error)
            await asyncio.sleep(0.1)
    raise AssertionError(f"{server.name}{path} not {status} within {timeout}s (last: {last}):\n{server.log_tail()}")


def run_cli(args: list[str], env: dict[str, str], workdir: Path, *, timeout: float = 60.0) -> str:
    workdir.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(
        [sys.executable, "-m", "casegraph.cli", *args],
        env=_server_env(env),
        cwd=workdir,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    output = completed.stdout.decode() + completed.stderr.decode()
    assert completed.returncode == 0, f"casegraph {' '.join(args)} failed:\n{output}"
    return output


# --------------------------------------------------------------------------------------------
# PostgreSQL and Redis


def _asyncpg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database in the test server, dropped afterwards."""
    import asyncpg

    admin = require_postgres()
    name = f"casegraph_live_{os.getpid()}_{uuid.uuid4().hex[:8]}"

    async def execute(sql: str) -> None:
        connection = await asyncpg.connect(_asyncpg_url(admin))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    run_sync(lambda: execute(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{admin.rpartition('/')[0]}/{name}"
    finally:
        run_sync(lambda: execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def backend_database(backend: str, workdir: Path) -> Iterator[str]:
    """A database URL for a live server on ``backend``: a SQLite file in ``workdir``, or a fresh
    PostgreSQL database migrated with ``casegraph migrate``."""
    if backend == "sqlite":
        yield f"sqlite://{workdir / 'casegraph.sqlite3'}"
        return
    with postgres_database() as url:
        assert "migrated" in run_cli(["migrate"], server_env(database_url=url), workdir)
        yield url


class RedisServer:
    """A private redis-server on a fixed loopback port that a test may kill and restart."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        assert self.process is None or self.process.poll() is not None, "redis-server is already running"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"redis-server exited with {self.process.returncode} (port {self.port} taken?)")
            if self.ping():
                return
            time.sleep(0.05)
        raise AssertionError(f"redis-server on port {self.port} did not answer within {timeout}s")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """Stop it hard, as a crash would (SIGKILL), and wait for it to be gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


# --------------------------------------------------------------------------------------------
# GraphQL over HTTP


class GraphQLHttp:
    """GraphQL over HTTP against one server; ``token`` is sent as a bearer token."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.AsyncClient(base_url=base_url, timeout=15.0)

    async def __aenter__(self) -> GraphQLHttp:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        body = await self.execute(query, variables, token=token)
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def mutate(self, field_name: str, input_: dict[str, Any], selection: str, *, token: str) -> dict[str, Any]:
        """Run ``field_name(input: ...)``; asserts it succeeded (no top-level errors, ``errors == []``)."""
        type_name = field_name[0].upper() + field_name[1:] + "Input"
        query = f"mutation M($input: {type_name}!) {{ {field_name}(input: $input) {{ {selection} errors {{ code field message }} }} }}"
        payload: dict[str, Any] = (await self.data(query, {"input": input_}, token=token))[field_name]
        assert payload["errors"] == [], f"{field_name}({input_}) refused: {payload['errors']}"
        return payload


# --------------------------------------------------------------------------------------------
# People, tokens and a small world set up over GraphQL


PEOPLE: Final[dict[str, tuple[Role, ...]]] = {
    "ada": (Role.ADMIN,),
    "alice": (Role.CONSTITUENT,),
    "bob": (Role.CONSTITUENT,),
    "dana": (Role.AGENT,),
    "eli": (Role.AGENT,),
    "grace": (Role.AGENT,),
    "ivan": (Role.AGENT,),
    "judy": (Role.AGENT,),
}


def mint_token(sub: str, *roles: Role, secret: str = TEST_SECRET) -> str:
    return issue_token(
        Settings(jwt_secret=secret), sub=sub, roles=list(roles), name=sub.title(), email=f"{sub}@example.org"
    )


@dataclass
class LiveWorld:
    """Tokens for PEOPLE; groups and case types created over GraphQL by ``ada`` (ADMIN).

    ROADS: dana and eli; BENEFITS: grace. POTHOLE (public service) is routed to ROADS, PAYMENT
    (customer service) to BENEFITS. alice and bob are constituents.
    """

    secret: str = TEST_SECRET
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, who: str) -> str:
        if who not in self.tokens:
            self.tokens[who] = mint_token(who, *PEOPLE[who], secret=self.secret)
        return self.tokens[who]


async def create_group(gql: GraphQLHttp, world: LiveWorld, code: str, members: list[str]) -> None:
    admin = world.token("ada")
    await gql.mutate(
        "createAssignmentGroup", {"code": code, "name": code.title()}, "assignmentGroup { code }", token=admin
    )
    for member in members:
        await gql.mutate(
            "addGroupMember",
            {"groupCode": code, "userId": member, "isManager": False},
            "member { user { id } }",
            token=admin,
        )


async def create_case_type(gql: GraphQLHttp, world: LiveWorld, code: str, workflow: str, group: str) -> None:
    await gql.mutate(
        "createCaseType",
        {"code": code, "name": code.title(), "workflow": workflow, "assignmentGroupCode": group, "autoAssign": False},
        "caseType { code }",
        token=world.token("ada"),
    )


async def set_up_world(base_url: str, secret: str = TEST_SECRET) -> LiveWorld:
    world = LiveWorld(secret=secret)
    async with GraphQLHttp(base_url) as gql:
        # Every person signs in once, so each is provisioned with their roles.
        for who in PEOPLE:
            await gql.data("query { me { id } }", token=world.token(who))
        await create_group(gql, world, "ROADS", ["dana", "eli"])
        await create_group(gql, world, "BENEFITS", ["grace"])
        await create_case_type(gql, world, "POTHOLE", "PUBLIC_SERVICE", "ROADS")
        await create_case_type(gql, world, "PAYMENT", "CUSTOMER_SERVICE", "BENEFITS")
    return world


EVENT_SELECTION: Final = "event { id sequence type }"


async def create_case(
    gql: GraphQLHttp, world: LiveWorld, who: str, title: str, case_type: str = "POTHOLE"
) -> tuple[str, str]:
    """File a case as ``who``; returns (case id, id of its CASE_CREATED event)."""
    payload = await gql.mutate(
        "createCase",
        {
            "caseTypeCode": case_type,
            "title": title,
            "description": "Seen on the way to work.",
            "impact": 2,
            "urgency": 2,
        },
        f"case {{ id }} {EVENT_SELECTION}",
        token=world.token(who),
    )
    return str(payload["case"]["id"]), str(payload["event"]["id"])


async def update_description(gql: GraphQLHttp, world: LiveWorld, who: str, case_id: str, text: str) -> dict[str, Any]:
    """One CASE_UPDATED event; returns the recorded event {id, sequence, type}."""
    payload = await gql.mutate(
        "updateCase", {"caseId": case_id, "description": text}, EVENT_SELECTION, token=world.token(who)
    )
    event: dict[str, Any] = payload["event"]
    return event


# --------------------------------------------------------------------------------------------
# GraphQL over WebSocket


class WsClosed(Exception):
    """The server closed the connection (or refused connection_init)."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed with {code} {reason!r}")
        self.code = code
        self.reason = reason


class SubscriptionFailed(Exception):
    def __init__(self, message: dict[str, Any]) -> None:
        super().__init__(json.dumps(message))
        self.message = message


class SubscriptionEnded(Exception):
    """The server completed the operation or the connection closed."""


_CLOSED: Final[dict[str, Any]] = {"type": "__closed__"}


class LiveSubscription:
    """One operation on a connection; its messages arrive in ``queue`` in order."""

    def __init__(self, connection: GraphQLWebSocket, op_id: str) -> None:
        self.connection = connection
        self.id = op_id
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def message(self, timeout: float = EVENT_TIMEOUT) -> dict[str, Any]:
        """The next raw protocol message for this operation."""
        async with asyncio.timeout(timeout):
            return await self.queue.get()

    async def next(self, timeout: float = EVENT_TIMEOUT) -> dict[str, Any]:
        """The value of the root field of the next result; raises on an error or the end."""
        message = await self.message(timeout)
        kind = message["type"]
        if kind in ("next", "data"):
            payload = message["payload"]
            if payload.get("errors"):
                raise SubscriptionFailed(message)
            data = payload["data"]
            assert len(data) == 1, data
            value: dict[str, Any] = next(iter(data.values()))
            return value
        if kind == "error":
            raise SubscriptionFailed(message)
        raise SubscriptionEnded(json.dumps(message))

    async def take(self, count: int, timeout: float = EVENT_TIMEOUT) -> list[dict[str, Any]]:
        """Exactly the next ``count`` results, all within ``timeout`` seconds."""
        results: list[dict[str, Any]] = []
        try:
            async with asyncio.timeout(timeout):
                while len(results) < count:
                    results.append(await self.next(timeout))
        except TimeoutError:
            raise AssertionError(f"got {len(results)} of {count} results within {timeout}s: {results}") from None
        return results

    async def take_until(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = EVENT_TIMEOUT
    ) -> list[dict[str, Any]]:
        """Results up to and including the first one ``predicate`` accepts."""
        results: list[dict[str, Any]] = []
        try:
            async with asyncio.timeout(timeout):
                while True:
                    result = await self.next(timeout)
                    results.append(result)
                    if predicate(result):
                        return results
        except TimeoutError:
            raise AssertionError(f"no matching result within {timeout}s; got {results}") from None

    async def assert_silent(self, seconds: float) -> None:
        """Nothing at all arrives for this operation during ``seconds``."""
        try:
            message = await self.message(seconds)
        except TimeoutError:
            return
        raise AssertionError(f"expected no message, got {message}")

    async def stop(self) -> None:
        kind = "complete" if self.connection.protocol == TRANSPORT_WS else "stop"
        await self.connection.send({"id": self.id, "type": kind})


class GraphQLWebSocket:
    """A connection speaking graphql-transport-ws (or legacy graphql-ws), with a reader task."""

    def __init__(self, ws: ClientConnection, protocol: str) -> None:
        self.ws = ws
        self.protocol = protocol
        self.operations: dict[str, LiveSubscription] = {}
        self._reader: asyncio.Task[None] | None = None
        self._counter = 0

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> LiveSubscription:
        self._counter += 1
        op_id = str(self._counter)
        subscription = LiveSubscription(self, op_id)
        self.operations[op_id] = subscription
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        await self.send({"id": op_id, "type": kind, "payload": {"query": query, "variables": variables or {}}})
        return subscription

    async def _init(self, payload: dict[str, Any] | None, timeout: float) -> None:
        await self.send({"type": "connection_init", "payload": payload or {}})
        try:
            async with asyncio.timeout(timeout):
                while True:
                    message = json.loads(await self.ws.recv())
                    if message["type"] == "connection_ack":
                        return
                    if message["type"] == "connection_error":
                        continue  # legacy protocol: the close follows
                    if message["type"] in ("ka", "ping"):
                        if message["type"] == "ping":
                            await self.send({"type": "pong"})
                        continue
                    raise AssertionError(f"unexpected message before connection_ack: {message}")
        except ConnectionClosed:
            raise WsClosed(self.ws.close_code, self.ws.close_reason or "") from None

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "ping":
                    await self.send({"type": "pong"})
                elif kind in ("pong", "ka"):
                    continue
                elif "id" in message and message["id"] in self.operations:
                    self.operations[message["id"]].queue.put_nowait(message)
        except ConnectionClosed:
            pass
        finally:
            for operation in self.operations.values():
                operation.queue.put_nowait(_CLOSED)

    async def wait_closed(self, timeout: float = EVENT_TIMEOUT) -> tuple[int | None, str]:
        async with asyncio.timeout(timeout):
            await self.ws.wait_closed()
        return self.ws.close_code, self.ws.close_reason or ""


@contextlib.asynccontextmanager
async def ws_connect(
    url: str,
    token: str | None,
    *,
    protocol: str = TRANSPORT_WS,
    origin: str | None = None,
    init_payload: dict[str, Any] | None = None,
    timeout: float = 15.0,
    headers: dict[str, str] | None = None,
) -> AsyncIterator[GraphQLWebSocket]:
    """Open, send connection_init with the bearer token, wait for the ack (WsClosed if refused)."""
    payload = init_payload if init_payload is not None else ({"Authorization": f"Bearer {token}"} if token else {})
    async with connect(
        url,
        subprotocols=[Subprotocol(protocol)],
        origin=Origin(origin) if origin is not None else None,
        additional_headers=headers,
        open_timeout=timeout,
        close_timeout=3,
        max_size=2**22,
    ) as ws:
        connection = GraphQLWebSocket(ws, protocol)
        await connection._init(payload, timeout)
        connection._reader = asyncio.create_task(connection._read())
        try:
            yield connection
        finally:
            await ws.close()
            connection._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await connection._reader


def case_events_query(fields: str = EVENT_FIELDS) -> str:
    return (
        f"subscription Watch($caseId: ID, $after: ID) {{ caseEvents(caseId: $caseId, after: $after) {{ {fields} }} }}"
    )


def sequences(events: list[dict[str, Any]]) -> list[int]:
    return [int(event["sequence"]) for event in events]


def assert_strictly_increasing(values: list[int]) -> None:
    assert all(a < b for a, b in zip(values, values[1:], strict=False)), f"not strictly increasing: {values}"
