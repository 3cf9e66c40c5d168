"""Rate limits: mutations per user and per client address, refused before they run, with
Retry-After; the memory, database and Redis stores; failing open when a store fails.

WebSocket connection limits need a real server (the ASGI denial response, close codes): see
tests/live/test_rate_limits_across_processes.py.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Callable, MutableMapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from tortoise.context import TortoiseContext

from casegraph.app import Runtime, create_app
from casegraph.auth import TokenVerifier
from casegraph.rate_limits import (
    RATE_LIMITED,
    ConnectionRateLimit,
    CounterStore,
    DatabaseStore,
    MemoryStore,
    RateLimiter,
    RedisStore,
    backend_for,
    build_rate_limiter,
)
from casegraph.rate_limits.sockets import (
    LEASE_SECONDS,
    DatabaseLeases,
    LeaseStore,
    MemoryLeases,
    OpenSockets,
    RedisLeases,
    SocketLease,
    TooManySockets,
)
from casegraph.rate_limits.stores import SWEEP_INTERVAL, bucket_key
from casegraph.settings import Rate, RateLimits, Settings
from models import CaseEvent, RateLimitBucket
from tests.helpers import FakeClock, RecordingPublisher, World

CREATE = """
mutation Create($input: CreateCaseInput!) {
  createCase(input: $input) { case { id } errors { code } }
}
"""
ME = "query Me { me { id } }"
HOUR = Rate(3, 3600)


def create_input(title: str = "Hole") -> dict[str, Any]:
    return {"input": {"caseTypeCode": "POTHOLE", "title": title, "description": "Deep", "impact": 3, "urgency": 3}}


@pytest.fixture(params=["memory", "database"])
def store(request: pytest.FixtureRequest) -> CounterStore:
    return MemoryStore() if request.param == "memory" else DatabaseStore()


@pytest.fixture
def app(db: TortoiseContext, settings: Settings, runtime: Runtime) -> Starlette:
    return create_app(settings, manage_resources=False, runtime=runtime)


@pytest.fixture
def limit(runtime: Runtime, clock: FakeClock) -> Callable[..., RateLimiter]:
    """Put a limiter with these limits (all others off) on the runtime the app reads it from."""

    def install(
        store: CounterStore | None = None,
        *,
        mutations_per_user: Rate | None = None,
        mutations_per_ip: Rate | None = None,
    ) -> RateLimiter:
        limits = replace(RateLimits.off(), mutations_per_user=mutations_per_user, mutations_per_ip=mutations_per_ip)
        limiter = RateLimiter(limits, store or MemoryStore(), clock=clock)
        runtime.rate_limiter = limiter
        return limiter

    return install


class Http:
    """GraphQL over HTTP from one peer address (httpx's ASGI transport lets a test choose it)."""

    def __init__(self, app: Starlette, settings: Settings, world: World, peer: str) -> None:
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(peer, 40000)), base_url="http://testserver"
        )
        self.settings = settings
        self.world = world

    async def post(
        self, body: Any, who: str | None = "requester", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        all_headers = dict(headers or {})
        if who is not None:
            all_headers["Authorization"] = f"Bearer {self.world.token(self.settings, who)}"
        return await self.client.post("/graphql", json=body, headers=all_headers)

    async def create_case(self, who: str | None = "requester", headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.post({"query": CREATE, "variables": create_input()}, who, headers)


@pytest.fixture
async def peers(app: Starlette, settings: Settings, world: World) -> AsyncIterator[Callable[[str], Http]]:
    opened: list[Http] = []

    def peer(address: str) -> Http:
        opened.append(Http(app, settings, world, address))
        return opened[-1]

    yield peer
    for http in opened:
        await http.client.aclose()


def created(response: httpx.Response) -> bool:
    body = response.json()
    return response.status_code == 200 and body["data"]["createCase"]["errors"] == []


def ran(response: httpx.Response) -> bool:
    """The mutation executed (whatever its payload says)."""
    return response.status_code == 200 and response.json()["data"]["createCase"] is not None


def assert_rate_limited(response: httpx.Response) -> int:
    """429, Retry-After, and a top-level RATE_LIMITED error with the same wait; returns it."""
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["retry-after"])
    body = response.json()
    [error] = body["errors"]
    assert error["extensions"] == {"code": RATE_LIMITED, "retryAfter": retry_after}
    assert error["message"] == f"Too many mutations: retry after {retry_after} s."
    assert "path" not in error and body.get("data") is None
    return retry_after


# -- mutations per user ---------------------------------------------------------------------------


async def test_mutations_per_user_trip_at_count_plus_one_and_recover_after_the_window(
    limit: Callable[..., RateLimiter],
    store: CounterStore,
    peers: Callable[[str], Http],
    clock: FakeClock,
    publisher: RecordingPublisher,
) -> None:
    # given three mutations an hour per user
    limit(store, mutations_per_user=HOUR)
    http = peers("198.51.100.1")
    for _ in range(3):
        assert created(await http.create_case())
    events, published = await CaseEvent.all().count(), len(publisher.events)

    # when the fourth comes within the hour
    refused = await http.create_case()

    # then it is refused before it ran, with the wait until the window ends
    retry_after = assert_rate_limited(refused)
    assert 1 <= retry_after <= 3600
    assert await CaseEvent.all().count() == events and len(publisher.events) == published
    # someone else is not held by alice's limit
    assert created(await http.create_case("other_constituent"))
    # and once the window has passed alice may write again
    clock.advance(timedelta(seconds=retry_after))
    assert created(await http.create_case())


async def test_the_limiter_built_from_settings_limits_mutations(
    db: TortoiseContext, settings: Settings, clock: FakeClock, world: World
) -> None:
    configured = replace(
        settings,
        rate_limits=RateLimits(
            mutations_per_user=Rate(1, 60), mutations_per_ip=None, connections_per_user=None, connections_per_ip=None
        ),
    )
    runtime = Runtime(settings=configured, verifier=TokenVerifier(configured), clock=clock)
    assert isinstance(runtime.rate_limiter.store, MemoryStore)  # SQLite and memory:// broadcast
    app = create_app(configured, manage_resources=False, runtime=runtime)
    http = Http(app, configured, world, "198.51.100.2")
    try:
        assert created(await http.create_case())
        assert_rate_limited(await http.create_case())
    finally:
        await http.client.aclose()


# -- mutations per address ------------------------------------------------------------------------


async def test_mutations_per_address_count_every_user_behind_it(
    limit: Callable[..., RateLimiter], store: CounterStore, peers: Callable[[str], Http]
) -> None:
    limit(store, mutations_per_ip=HOUR)
    office, home = peers("198.51.100.7"), peers("203.0.113.9")
    assert ran(await office.create_case("requester"))
    assert ran(await office.create_case("other_constituent"))
    assert ran(await office.create_case("agent"))

    assert_rate_limited(await office.create_case("other_agent"))
    assert ran(await home.create_case("other_agent"))


async def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    limit: Callable[..., RateLimiter], peers: Callable[[str], Http]
) -> None:
    # given a client that forges X-Forwarded-For, talking to us directly
    limit(mutations_per_ip=Rate(2, 3600))
    direct = peers("198.51.100.20")
    for forged in ("192.0.2.1", "192.0.2.2"):
        assert created(await direct.create_case(headers={"X-Forwarded-For": forged}))
    # then every forged address still counts as its own
    assert_rate_limited(await direct.create_case(headers={"X-Forwarded-For": "192.0.2.3"}))


async def test_forwarded_for_from_a_trusted_proxy_names_the_client(
    db: TortoiseContext, runtime: Runtime, world: World, limit: Callable[..., RateLimiter]
) -> None:
    # given our own proxy in front, forwarding two clients
    settings = replace(runtime.settings, trusted_proxies=("10.0.0.0/8",))
    runtime.settings = settings
    limit(mutations_per_ip=Rate(2, 3600))
    proxy = Http(create_app(settings, manage_resources=False, runtime=runtime), settings, world, "10.1.2.3")
    first, second = {"X-Forwarded-For": "192.0.2.10"}, {"X-Forwarded-For": "192.0.2.11, 10.9.9.9"}
    assert created(await proxy.create_case(headers=first))
    assert created(await proxy.create_case(headers=first))
    # then each client has its own count, not the proxy's
    assert created(await proxy.create_case(headers=second))
    assert_rate_limited(await proxy.create_case(headers=first))
    await proxy.client.aclose()


# -- what is and is not counted -------------------------------------------------------------------


async def test_queries_are_never_counted(
    limit: Callable[..., RateLimiter], store: CounterStore, peers: Callable[[str], Http]
) -> None:
    limit(store, mutations_per_user=Rate(1, 3600), mutations_per_ip=Rate(1, 3600))
    http = peers("198.51.100.30")
    for _ in range(5):
        response = await http.post({"query": ME})
        assert response.status_code == 200 and response.json()["data"]["me"]["id"]
    # nothing was counted, not even a round trip to the store
    if isinstance(store, MemoryStore):
        assert len(store) == 0
    else:
        assert await RateLimitBucket.all().count() == 0
    assert created(await http.create_case())


def aliased_creations(count: int) -> dict[str, Any]:
    """One operation running ``count`` aliased ``createCase`` fields (a named fragment holds one)."""
    fields = " ".join(
        f"c{n}: createCase(input: $input) {{ case {{ id }} errors {{ code }} }}" for n in range(count - 1)
    )
    query = (
        f"mutation Many($input: CreateCaseInput!) {{ {fields} ...Last }} "
        "fragment Last on Mutation { last: createCase(input: $input) { case { id } errors { code } } }"
    )
    return {"query": query, "variables": create_input()}


async def test_every_mutation_field_counts_aliases_included(
    limit: Callable[..., RateLimiter], store: CounterStore, peers: Callable[[str], Http]
) -> None:
    # given five mutations an hour per user and per address
    limit(store, mutations_per_user=Rate(5, 3600), mutations_per_ip=Rate(5, 3600))
    http = peers("198.51.100.31")
    # when one operation runs three aliased createCase fields (one through a fragment)
    three = await http.post(aliased_creations(3))
    # then it ran, and counted three
    assert three.status_code == 200 and all(v["errors"] == [] for v in three.json()["data"].values())
    assert await CaseEvent.filter(type="CASE_CREATED").count() == 3
    # so an operation of three more is over the limit: refused whole, nothing runs
    assert_rate_limited(await http.post(aliased_creations(3)))
    assert await CaseEvent.filter(type="CASE_CREATED").count() == 3


async def test_unauthenticated_mutations_count_for_their_address_only(
    limit: Callable[..., RateLimiter], peers: Callable[[str], Http]
) -> None:
    limit(mutations_per_user=Rate(5, 3600), mutations_per_ip=Rate(2, 3600))
    http = peers("198.51.100.40")
    for _ in range(2):
        anonymous = await http.create_case(who=None)
        assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    assert_rate_limited(await http.create_case(who=None))
    # the address is spent, whoever signs in from it
    assert_rate_limited(await http.create_case("requester"))


async def test_each_operation_of_a_batch_counts(
    db: TortoiseContext, settings: Settings, clock: FakeClock, world: World
) -> None:
    configured = replace(
        settings, batch_max_operations=5, rate_limits=replace(RateLimits.off(), mutations_per_user=Rate(2, 3600))
    )
    runtime = Runtime(settings=configured, verifier=TokenVerifier(configured), clock=clock)
    app = create_app(configured, manage_resources=False, runtime=runtime)
    http = Http(app, configured, world, "198.51.100.50")
    operation = {"query": CREATE, "variables": create_input()}
    try:
        batch = await http.post([operation, {"query": ME}, operation, operation])
        # two ran, so the response is not a 429 (a client would repeat them), but says when to retry
        assert batch.status_code == 200, batch.text
        first, me, second, third = batch.json()
        assert first["data"]["createCase"]["errors"] == [] and second["data"]["createCase"]["errors"] == []
        assert me["data"]["me"]["id"]
        assert third["errors"][0]["extensions"]["code"] == RATE_LIMITED
        assert batch.headers["retry-after"] == str(third["errors"][0]["extensions"]["retryAfter"])
        assert await CaseEvent.filter(type="CASE_CREATED").count() == 2
        # a batch in which nothing ran is a 429
        again = await http.post([operation, operation])
        assert again.status_code == 429 and again.headers["retry-after"]
    finally:
        await http.client.aclose()


# -- WebSocket handshakes without the denial-response extension ------------------------------------


async def handshake(gate: ConnectionRateLimit, extensions: dict[str, Any]) -> list[dict[str, Any]]:
    """One WebSocket handshake through ``gate``; what it sent back."""
    scope = {
        "type": "websocket",
        "path": "/graphql",
        "headers": [],
        "client": ("198.51.100.70", 5000),
        "subprotocols": ["unknown", "graphql-transport-ws"],
        "extensions": extensions,
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    await gate(scope, receive, send)
    return sent


async def test_a_handshake_over_the_limit_is_closed_1013_when_429_cannot_be_sent(clock: FakeClock) -> None:
    # given a server without the ASGI denial-response extension
    reached: list[str] = []

    async def endpoint(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["type"])

    limiter = RateLimiter(replace(RateLimits.off(), connections_per_ip=Rate(1, 3600)), MemoryStore(), clock=clock)
    gate = ConnectionRateLimit(endpoint, lambda: limiter, ["graphql-transport-ws", "graphql-ws"])
    assert await handshake(gate, {}) == [] and reached == ["websocket"]

    # when the same address comes again
    refused = await handshake(gate, {})

    # then the socket is accepted (with the client's protocol) only to say when to come back
    accept, close = refused
    assert accept == {"type": "websocket.accept", "subprotocol": "graphql-transport-ws", "headers": []}
    assert close["type"] == "websocket.close" and close["code"] == 1013
    assert close["reason"].startswith("Too many connections: retry after ")
    assert reached == ["websocket"]
    # and a server that has the extension answers 429 instead
    [start, body] = await handshake(gate, {"websocket.http.response": {}})
    assert start["type"] == "websocket.http.response.start" and start["status"] == 429
    assert int(dict(start["headers"])[b"retry-after"]) >= 1
    assert body["type"] == "websocket.http.response.body"


# -- stores ---------------------------------------------------------------------------------------


async def test_a_store_counts_hits_in_a_window_and_says_when_it_ends(
    db: TortoiseContext, store: CounterStore, clock: FakeClock
) -> None:
    start = clock.now.replace(minute=0, second=0, microsecond=0)
    counts = [await store.hit("k", Rate(10, 60), start + timedelta(seconds=15)) for _ in range(3)]
    assert [c.hits for c in counts] == [1, 2, 3]
    assert {c.retry_after for c in counts} == {45}
    # the last fraction of a second still has a whole second to wait
    assert (await store.hit("k", Rate(10, 60), start + timedelta(seconds=59.2))).retry_after == 1
    # the next window starts again, other keys count on their own
    assert (await store.hit("k", Rate(10, 60), start + timedelta(seconds=60))).hits == 1
    assert (await store.hit("other", Rate(10, 60), start + timedelta(seconds=60))).hits == 1


async def test_a_store_counts_several_hits_at_once(db: TortoiseContext, store: CounterStore, clock: FakeClock) -> None:
    now = clock()
    assert (await store.hit("many", Rate(10, 60), now, 4)).hits == 4
    assert (await store.hit("many", Rate(10, 60), now)).hits == 5
    assert (await store.hit("many", Rate(10, 60), now, 99)).hits == 104


async def test_concurrent_hits_on_the_database_are_each_counted_once(db: TortoiseContext, clock: FakeClock) -> None:
    store = DatabaseStore()
    now = clock()
    counts = await asyncio.gather(*(store.hit("busy", Rate(100, 60), now) for _ in range(20)))
    assert sorted(count.hits for count in counts) == list(range(1, 21))


async def test_the_database_store_sweeps_expired_windows(db: TortoiseContext, clock: FakeClock) -> None:
    store = DatabaseStore()
    now = clock()
    for key in ("a", "b", "c"):
        await store.hit(key, Rate(5, 10), now)
    assert await RateLimitBucket.all().count() == 3

    await store.hit("d", Rate(5, 10), now + SWEEP_INTERVAL)

    assert [row.bucket.split(":")[0] for row in await RateLimitBucket.all()] == ["d"]


async def test_the_memory_store_sweeps_expired_windows(clock: FakeClock) -> None:
    store = MemoryStore()
    now = clock()
    for number in range(100):
        await store.hit(f"address-{number}", Rate(5, 10), now)
    assert len(store) == 100

    await store.hit("late", Rate(5, 10), now + SWEEP_INTERVAL)

    assert len(store) == 1


# -- open connections per user --------------------------------------------------------------------


@pytest.fixture(params=["memory", "database", "redis"])
async def open_sockets(
    request: pytest.FixtureRequest, db: TortoiseContext, clock: FakeClock
) -> AsyncIterator[OpenSockets]:
    store: LeaseStore
    if request.param == "redis":
        store = RedisLeases(redis_url())
    else:
        store = MemoryLeases() if request.param == "memory" else DatabaseLeases()
    sockets = OpenSockets(2, store, clock=clock, shared=False)  # no renewal task: leases renew below
    yield sockets
    await sockets.close()


async def test_a_user_holds_at_most_the_allowed_open_connections_until_one_is_given_back(
    open_sockets: OpenSockets,
) -> None:
    user = f"u-{uuid.uuid4().hex[:8]}"
    first, second = await open_sockets.open(user), await open_sockets.open(user)
    assert isinstance(first, SocketLease) and isinstance(second, SocketLease)
    # over the cap: refused, and the refusal took no place
    assert await open_sockets.open(user) == TooManySockets(2)
    assert await open_sockets.open(user) == TooManySockets(2)
    assert isinstance(await open_sockets.open(f"{user}-other"), SocketLease)
    # giving one back (twice changes nothing) frees exactly one place
    await first.release()
    await first.release()
    assert isinstance(await open_sockets.open(user), SocketLease)
    assert await open_sockets.open(user) == TooManySockets(2)


async def test_database_leases_of_a_vanished_process_expire_unless_renewed(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # given two leases, one kept renewed by its (live) process, one left by a process that died
    store = DatabaseLeases()
    now = clock()
    for lease in ("alive", "dead"):
        assert await store.take("socket:user:u%_x", lease, 2, now + timedelta(seconds=LEASE_SECONDS), now)
    later = now + timedelta(seconds=LEASE_SECONDS)
    await store.renew([("socket:user:u%_x", "alive")], later + timedelta(seconds=LEASE_SECONDS))
    # when the dead one's lease has run out, a new connection fits; a third does not
    assert await store.take("socket:user:u%_x", "new", 2, later + timedelta(seconds=LEASE_SECONDS), later)
    assert not await store.take("socket:user:u%_x", "more", 2, later + timedelta(seconds=LEASE_SECONDS), later)
    # a user id with LIKE wildcards counts only its own leases
    assert await store.take("socket:user:uXYx", "own", 1, later + timedelta(seconds=LEASE_SECONDS), later)


def test_long_identities_are_hashed_to_fit_a_bucket() -> None:
    key = bucket_key("mutation:user", "x" * 1000)
    assert len(key) < 255 - 20 and key == bucket_key("mutation:user", "x" * 1000)
    assert bucket_key("mutation:user", "alice") == "mutation:user:alice"


def redis_url() -> str:
    from tests.live.support import require_redis

    return require_redis()


async def test_redis_stores_share_one_count_and_windows_expire_on_the_server(clock: FakeClock) -> None:
    # two stores on one Redis: two server processes
    first, second = RedisStore(redis_url()), RedisStore(redis_url())
    key, rate = f"test:{uuid.uuid4().hex}", Rate(3, 1)
    try:
        hits = [(await store.hit(key, rate, clock())).hits for store in (first, second, first, second)]
        assert hits == [1, 2, 3, 4]
        assert (await first.hit(key, rate, clock(), 3)).hits == 7  # one operation of three mutation fields
        assert (await second.hit(key, rate, clock())).retry_after == 1
        await asyncio.sleep(1.2)  # the server's clock ends the window, not ours
        assert (await first.hit(key, rate, clock())).hits == 1
    finally:
        await first.close()
        await second.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_failing_store_fails_open_and_warns_once(
    limit: Callable[..., RateLimiter], peers: Callable[[str], Http], caplog: pytest.LogCaptureFixture
) -> None:
    # given a Redis that is not there
    store = RedisStore(f"redis://127.0.0.1:{closed_port()}/0")
    limiter = limit(store, mutations_per_user=Rate(1, 3600), mutations_per_ip=Rate(1, 3600))
    limiter.backend_pause = 0  # ask the store every time: each failure must still let the request through
    http = peers("198.51.100.60")
    try:
        with caplog.at_level(logging.WARNING, logger="casegraph.rate_limits"):
            for _ in range(3):
                assert created(await http.create_case())
    finally:
        await store.close()
    warnings = [r for r in caplog.records if r.name == "casegraph.rate_limits"]
    assert len(warnings) == 1 and "NOT enforced" in warnings[0].getMessage()


async def test_after_a_failure_the_store_is_left_alone_for_a_moment(clock: FakeClock) -> None:
    class Flaky:
        calls = 0

        async def hit(self, key: str, rate: Rate, now: Any, amount: int = 1) -> Any:
            self.calls += 1
            raise OSError("down")

        async def close(self) -> None:
            return None

    flaky = Flaky()
    limiter = RateLimiter(replace(RateLimits.off(), mutations_per_user=Rate(1, 60)), flaky, clock=clock)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(logging.getLogger("casegraph.rate_limits"), "disabled", True)
        assert await limiter.mutation(user_id="alice", address=None) is None
        assert await limiter.mutation(user_id="alice", address=None) is None
    assert flaky.calls == 1


# -- configuration --------------------------------------------------------------------------------


def test_rate_limits_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "CASEGRAPH_RATE_MUTATIONS_PER_USER": "30/10",
            "CASEGRAPH_RATE_MUTATIONS_PER_IP": "off",
            "CASEGRAPH_RATE_CONNECTIONS_PER_USER": "7",
            "CASEGRAPH_RATE_LIMIT_BACKEND": "Database",
        },
        dotenv=None,
    )
    limits = settings.rate_limits
    assert limits.mutations_per_user == Rate(30, 10) and limits.mutations_per_ip is None
    assert limits.connections_per_user == Rate(7, 60) and limits.connections_per_ip == RateLimits().connections_per_ip
    assert limits.backend == "database"
    assert limits.sockets_per_user == RateLimits().sockets_per_user == 20
    assert Settings.from_env({"CASEGRAPH_RATE_SOCKETS_PER_USER": "3"}).rate_limits.sockets_per_user == 3
    assert Settings.from_env({"CASEGRAPH_RATE_SOCKETS_PER_USER": "off"}).rate_limits.sockets_per_user is None
    assert Settings.from_env({"CASEGRAPH_RATE_LIMITS": "off"}).rate_limits == RateLimits.off()
    assert RateLimits.off().sockets_per_user is None
    for name, value in (
        ("RATE_MUTATIONS_PER_USER", "many"),
        ("RATE_CONNECTIONS_PER_IP", "0/60"),
        ("RATE_LIMIT_BACKEND", "memcached"),
        ("RATE_SOCKETS_PER_USER", "some"),
    ):
        with pytest.raises(ValueError, match=f"CASEGRAPH_{name}"):
            Settings.from_env({f"CASEGRAPH_{name}": value})


@pytest.mark.parametrize(
    ("database_url", "broadcast_url", "backend", "chosen"),
    [
        ("sqlite://casegraph.sqlite3", "memory://", None, "memory"),
        ("postgres://db/casegraph", "postgres://db/casegraph", None, "database"),
        ("postgres://db/casegraph", "redis://cache:6379/0", None, "redis"),
        ("sqlite://casegraph.sqlite3", "redis://cache:6379/0", "memory", "memory"),
        ("sqlite://casegraph.sqlite3", "memory://", "database", "database"),
    ],
)
def test_the_store_follows_the_deployment_unless_chosen(
    database_url: str, broadcast_url: str, backend: str | None, chosen: str
) -> None:
    settings = Settings(
        database_url=database_url, broadcast_url=broadcast_url, rate_limits=replace(RateLimits(), backend=backend)
    )
    assert backend_for(settings) == chosen


def test_the_redis_store_needs_a_redis_broadcast_url(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="CASEGRAPH_RATE_LIMIT_BACKEND=redis"):
        build_rate_limiter(Settings(rate_limits=replace(RateLimits(), backend="redis")), clock=clock)


def test_no_store_is_opened_when_every_limit_is_off(clock: FakeClock) -> None:
    limiter = build_rate_limiter(
        Settings(broadcast_url="redis://cache:6379/0", rate_limits=RateLimits.off()), clock=clock
    )
    assert limiter.store is None and not limiter.counts_mutations and limiter.sockets is None
