"""Deactivation and the end of a browser session reach the sockets already open (issue 17), over real sockets.

Two ``casegraph serve`` processes (A and B) share one database: SQLite with ``memory://`` (no
broadcast between them: B learns of the change at its next recheck), PostgreSQL with its own
NOTIFY broadcast, and PostgreSQL with Redis as the broadcaster. The administrator and the
constituent act on A; the sockets are on A or B.
"""

from __future__ import annotations

import asyncio
import contextlib
import mailbox
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Final

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from casegraph.domain.enums import Role
from casegraph.events.access import RECHECK_INTERVAL
from tests.conftest import BACKENDS
from tests.live.support import (
    EVENT_TIMEOUT,
    LEGACY_WS,
    TRANSPORT_WS,
    GraphQLHttp,
    GraphQLWebSocket,
    LiveSubscription,
    LiveWorld,
    ServerProcess,
    WsClosed,
    case_events_query,
    create_case,
    mint_token,
    postgres_database,
    require_redis,
    run_cli,
    run_sync,
    server_env,
    set_up_world,
    start_server,
    update_description,
    ws_connect,
)

FORBIDDEN: Final = 4403
CLOSE_TIMEOUT: Final = EVENT_TIMEOUT + RECHECK_INTERVAL
# The outbox of the server processes: a sign-in link's mail lands in the maildir soon after.
OUTBOX_INTERVAL: Final = "0.05"
MAIL_POLL: Final = 0.05
COUNT_CASES: Final = "query { cases { totalCount } }"
SET_ACTIVE: Final = "setUserActive"
REQUEST_LINK: Final = "mutation($email: String!) { requestSignInLink(input: {email: $email}) { accepted } }"


@dataclass
class Servers:
    a: ServerProcess
    b: ServerProcess
    world: LiveWorld
    maildir: Path


@pytest.fixture(scope="module", params=[*BACKENDS, "postgres+redis"] if "postgres" in BACKENDS else BACKENDS)
def servers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    backend = str(request.param)
    workdir = tmp_path_factory.mktemp(f"socket-standing-{backend.replace('+', '-')}")
    more = {"outbox_interval": OUTBOX_INTERVAL, "maildir": str(workdir / "mail")}
    with contextlib.ExitStack() as stack:
        if backend == "sqlite":
            env = server_env(database_url=f"sqlite://{workdir / 'casegraph.sqlite3'}", **more)
        else:
            database_url = stack.enter_context(postgres_database())
            broadcast_url = require_redis() if backend == "postgres+redis" else database_url
            env = server_env(database_url=database_url, broadcast_url=broadcast_url, **more)
        run_cli(["migrate"], env, workdir)
        a = start_server(f"{backend}-A", env, workdir, wait_ready=True)
        stack.callback(a.stop)
        b = start_server(f"{backend}-B", env, workdir, wait_ready=True)
        stack.callback(b.stop)
        world = run_sync(lambda: set_up_world(a.http_url))
        yield Servers(a=a, b=b, world=world, maildir=workdir / "mail")


@pytest.fixture(params=[TRANSPORT_WS, LEGACY_WS])
def protocol(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def gql(servers: Servers) -> AsyncIterator[GraphQLHttp]:
    async with GraphQLHttp(servers.a.http_url) as client:
        yield client


def socket_server(servers: Servers, where: str) -> ServerProcess:
    return servers.a if where == "same process" else servers.b


async def follow(connection: GraphQLWebSocket, case_id: str, created: str) -> LiveSubscription:
    """A subscription replaying the case's events from its creation: its first event arrives at once."""
    subscription = await connection.subscribe(
        case_events_query("id"), {"caseId": case_id, "after": str(int(created) - 1)}
    )
    assert (await subscription.next())["id"] == created
    return subscription


async def assert_ended(connection: GraphQLWebSocket, subscription: LiveSubscription, server: ServerProcess) -> str:
    """The socket is closed with 4403 and the subscription gets nothing more; returns the reason."""
    try:
        code, reason = await connection.wait_closed(CLOSE_TIMEOUT)
    except TimeoutError:
        raise AssertionError(f"the socket stayed open; the server's log:\n{server.log_tail()}") from None
    assert code == FORBIDDEN, (code, reason, server.log_tail())
    message = await subscription.message(CLOSE_TIMEOUT)
    assert message["type"] == "__closed__", message
    return reason


async def set_active(gql: GraphQLHttp, world: LiveWorld, user_id: str, active: bool) -> None:
    await gql.mutate(SET_ACTIVE, {"userId": user_id, "active": active}, "user { id }", token=world.token("ada"))


# --------------------------------------------------------------------------------------------
# Deactivation


@pytest.mark.parametrize("where", ["same process", "other process"])
async def test_deactivating_a_user_closes_their_open_sockets_with_4403(
    servers: Servers, gql: GraphQLHttp, protocol: str, where: str
) -> None:
    # given: an agent following a case of their group over a socket
    world = servers.world
    agent = f"agent-{uuid.uuid4().hex[:10]}"
    token = mint_token(agent, Role.AGENT)
    await gql.data("query { me { id } }", token=token)
    await gql.mutate(
        "addGroupMember",
        {"groupCode": "ROADS", "userId": agent, "isManager": False},
        "member { user { id } }",
        token=world.token("ada"),
    )
    case_id, created = await create_case(gql, world, "alice", f"Lamp {agent}")
    async with ws_connect(socket_server(servers, where).ws_url, token, protocol=protocol) as connection:
        events = await follow(connection, case_id, created)
        # when: an administrator deactivates them (on process A)
        await set_active(gql, world, agent, False)
        # then: the socket closes with 4403 (the token itself is good for 30 days more)
        reason = await assert_ended(connection, events, socket_server(servers, where))
    assert "deactivated" in reason
    # and: the case's next event reaches nobody in their name; a new socket is refused
    await update_description(gql, world, "alice", case_id, "After the deactivation.")
    with pytest.raises(WsClosed):
        async with ws_connect(socket_server(servers, where).ws_url, token, protocol=protocol):
            pass


async def test_an_operation_on_a_deactivated_users_socket_is_not_run(servers: Servers, gql: GraphQLHttp) -> None:
    # given: an agent with a socket on process A whose memberships A has read (and remembers: a
    # process without a broadcast hears of the change at its recheck, like of a membership's)
    world = servers.world
    agent = f"agent-{uuid.uuid4().hex[:10]}"
    token = mint_token(agent, Role.AGENT)
    async with ws_connect(servers.a.ws_url, token) as connection:
        assert (await (await connection.subscribe(COUNT_CASES)).next())["totalCount"] == 0
        # when: deactivated
        await set_active(gql, world, agent, False)
        # then: what the socket asks next is not answered, whether or not the close came first
        with contextlib.suppress(ConnectionClosed):  # closed before the operation could be sent
            operation = await connection.subscribe(COUNT_CASES)
            message = await operation.message(CLOSE_TIMEOUT)
            assert message["type"] == "__closed__", f"the operation ran: {message}"
        code, _ = await connection.wait_closed(CLOSE_TIMEOUT)
    assert code == FORBIDDEN
    # and: reactivated, they connect again
    await set_active(gql, world, agent, True)
    async with ws_connect(servers.a.ws_url, token) as connection:
        assert (await (await connection.subscribe(COUNT_CASES)).next())["totalCount"] == 0


# --------------------------------------------------------------------------------------------
# The end of the browser session


async def read_link(maildir: Path, address: str) -> str:
    """The sign-in link of the newest mail to ``address`` in the servers' maildir."""
    deadline = time.monotonic() + EVENT_TIMEOUT
    while time.monotonic() < deadline:
        if (maildir / "new").is_dir():
            for message in mailbox.Maildir(maildir, create=False):
                if str(message["To"]) == address:
                    found = re.search(r"(/signin/link\?token=\w+)", _decoded_text(message))
                    if found is not None:
                        return found.group(1)
        await asyncio.sleep(MAIL_POLL)
    raise AssertionError(f"no sign-in mail reached {address}")


def _decoded_text(message: Message) -> str:
    """The message's parts decoded (quoted-printable would break a long link over lines)."""
    texts: list[str] = []
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            texts.append(payload.decode())
    return "".join(texts)


async def signed_in_browser(servers: Servers, http: httpx.AsyncClient, address: str) -> str:
    """Sign in by mailed link as the portal does: the browser keeps the cookie; returns an access token."""
    asked = await http.post("/graphql", json={"query": REQUEST_LINK, "variables": {"email": address}})
    assert asked.json() == {"data": {"requestSignInLink": {"accepted": True}}}
    link = await read_link(servers.maildir, address)
    page = await http.get(link)
    token = re.search(r'name="token" value="(\w+)"', page.text)
    assert token is not None, page.text
    assert (await http.post("/signin/link", data={"token": token.group(1)})).status_code == 303
    refreshed = await http.post("/auth/refresh")
    assert refreshed.status_code == 200, refreshed.text
    access: str = refreshed.json()["accessToken"]
    return access


@pytest.mark.parametrize("where", ["same process", "other process"])
async def test_signing_out_closes_the_sockets_opened_with_the_sessions_tokens(
    servers: Servers, gql: GraphQLHttp, protocol: str, where: str
) -> None:
    # given: a constituent signed in by link, following their own case over a socket
    world = servers.world
    address = f"nina-{uuid.uuid4().hex[:8]}@example.org"
    async with httpx.AsyncClient(base_url=servers.a.http_url, timeout=15.0) as browser:
        access = await signed_in_browser(servers, browser, address)
        world.tokens[address] = access
        case_id, created = await create_case(gql, world, address, "Bins not collected")
        async with ws_connect(socket_server(servers, where).ws_url, access, protocol=protocol) as connection:
            events = await follow(connection, case_id, created)
            # when: they sign out (in another tab, on process A)
            assert (await browser.post("/auth/signout")).status_code == 204
            # then: the socket closes with 4403 at once, not when the access token expires
            reason = await assert_ended(connection, events, socket_server(servers, where))
    assert "session has ended" in reason
    # and: the access token of the ended session is refused on every transport
    refused = await gql.execute(COUNT_CASES, token=access)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", refused
    with pytest.raises(WsClosed):
        async with ws_connect(socket_server(servers, where).ws_url, access, protocol=protocol):
            pass
