"""A WebSocket session is only as good as its token and its memberships (issue 14 §1), over real sockets.

Two ``casegraph serve`` processes (A and B) share one database — SQLite with ``memory://`` (no
broadcast between them: B learns of a membership change by re-reading memberships) and
PostgreSQL with its own NOTIFY broadcast — and every test runs over graphql-transport-ws and the
legacy graphql-ws. Each test makes its own agents, group and case type, so the tests share the
servers without seeing each other's changes.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

import pytest
from websockets.exceptions import ConnectionClosed

from casegraph.auth import LEEWAY_SECONDS, issue_token
from casegraph.domain.enums import Role
from casegraph.events.access import RECHECK_INTERVAL
from casegraph.settings import Settings
from tests.conftest import BACKENDS, TEST_SECRET
from tests.live.support import (
    EVENT_TIMEOUT,
    LEGACY_WS,
    TRANSPORT_WS,
    GraphQLHttp,
    GraphQLWebSocket,
    LiveSubscription,
    LiveWorld,
    ServerProcess,
    case_events_query,
    create_case,
    create_case_type,
    create_group,
    mint_token,
    postgres_database,
    run_cli,
    run_sync,
    server_env,
    set_up_world,
    start_server,
    update_description,
    ws_connect,
)

FORBIDDEN: Final = 4403
# Long enough for any wait here to see a close or a message that should come "at once"; process
# B without a broadcast learns of a change at its next recheck of memberships.
CLOSE_TIMEOUT: Final = EVENT_TIMEOUT + RECHECK_INTERVAL
# A token whose exp is this much less than the leeway in the past: the server still accepts it,
# as over HTTP, for about this many seconds more.
STILL_VALID_FOR: Final = 6

COUNT_CASES: Final = "query { cases { totalCount } }"
WORK_NOTES: Final = "query($id: ID!) { case(id: $id) { workNotes { body } } }"
ASSIGN_TO_ME: Final = """
mutation($caseId: ID!) {
  assignToMe(input: {caseId: $caseId}) { case { assignedTo { id } } errors { code } }
}"""
ASSIGNEE: Final = "query($id: ID!) { case(id: $id) { assignedTo { id } } }"
# A subscription that reads the case at once (both protocols serve subscriptions; the legacy
# graphql-ws serves nothing else): it replays the case's events from its creation on.
CASE_HISTORY: Final = "subscription($id: ID!, $after: ID) { caseEvents(caseId: $id, after: $after) { id } }"
PRESENCE: Final = "subscription($caseId: ID!) { casePresence(caseId: $caseId) { user { id } } }"


@dataclass
class Servers:
    a: ServerProcess
    b: ServerProcess
    world: LiveWorld


@pytest.fixture(scope="module", params=BACKENDS)
def servers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    backend = str(request.param)
    workdir = tmp_path_factory.mktemp(f"socket-auth-{backend}")
    with contextlib.ExitStack() as stack:
        if backend == "postgres":
            database_url = stack.enter_context(postgres_database())
            env = server_env(database_url=database_url, broadcast_url=database_url)
        else:
            env = server_env(database_url=f"sqlite://{workdir / 'casegraph.sqlite3'}")
        run_cli(["migrate"], env, workdir)
        a = start_server(f"{backend}-A", env, workdir, wait_ready=True)
        stack.callback(a.stop)
        b = start_server(f"{backend}-B", env, workdir, wait_ready=True)
        stack.callback(b.stop)
        world = run_sync(lambda: set_up_world(a.http_url))
        yield Servers(a=a, b=b, world=world)


@pytest.fixture(params=[TRANSPORT_WS, LEGACY_WS])
def protocol(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def gql(servers: Servers) -> AsyncIterator[GraphQLHttp]:
    async with GraphQLHttp(servers.a.http_url) as client:
        yield client


@dataclass
class Desk:
    """A group of the test's own with one case type routed to it and a case of alice's filed there."""

    group: str
    case_type: str
    case_id: str
    created: str  # the id of the case's CASE_CREATED event


def new_agent() -> tuple[str, str]:
    sub = f"agent-{uuid.uuid4().hex[:10]}"
    return sub, mint_token(sub, Role.AGENT)


async def open_desk(gql: GraphQLHttp, world: LiveWorld, members: list[str]) -> Desk:
    suffix = uuid.uuid4().hex[:8].upper()
    group, case_type = f"G{suffix}", f"T{suffix}"
    await create_group(gql, world, group, members)
    await create_case_type(gql, world, case_type, "PUBLIC_SERVICE", group)
    case_id, created = await create_case(gql, world, "alice", f"Filed at {group}", case_type)
    return Desk(group=group, case_type=case_type, case_id=case_id, created=created)


async def remove_member(gql: GraphQLHttp, world: LiveWorld, group: str, user_id: str) -> None:
    await gql.mutate(
        "removeGroupMember",
        {"groupCode": group, "userId": user_id},
        "assignmentGroup { code }",
        token=world.token("ada"),
    )


async def add_member(gql: GraphQLHttp, world: LiveWorld, group: str, user_id: str) -> None:
    await gql.mutate(
        "addGroupMember",
        {"groupCode": group, "userId": user_id, "isManager": False},
        "member { user { id } }",
        token=world.token("ada"),
    )


async def run_once(connection: GraphQLWebSocket, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """A query or mutation over the socket: its result's root value (fails on errors or the end)."""
    return await (await connection.subscribe(query, variables)).next()


async def follow_case(connection: GraphQLWebSocket, desk: Desk) -> LiveSubscription:
    return await connection.subscribe(CASE_HISTORY, {"id": desk.case_id, "after": str(int(desk.created) - 1)})


async def assert_not_run(operation: LiveSubscription) -> None:
    """The operation got no result: the server closed the connection instead."""
    message = await operation.message(CLOSE_TIMEOUT)
    assert message["type"] == "__closed__", f"the operation ran: {message}"


async def assert_refused(connection: GraphQLWebSocket, query: str, variables: dict[str, Any]) -> None:
    """The operation does not run: the socket is closed before it can be sent, or instead of answering."""
    try:
        operation = await connection.subscribe(query, variables)
    except ConnectionClosed:
        return
    await assert_not_run(operation)


async def assignee(gql: GraphQLHttp, world: LiveWorld, desk: Desk) -> dict[str, Any] | None:
    case: dict[str, Any] = (await gql.data(ASSIGNEE, {"id": desk.case_id}, token=world.token("ada")))["case"]
    assigned: dict[str, Any] | None = case["assignedTo"]
    return assigned


async def viewers(watch: LiveSubscription) -> list[str]:
    value: list[dict[str, Any]] = await watch.next(CLOSE_TIMEOUT)  # type: ignore[assignment]
    return sorted(viewer["user"]["id"] for viewer in value)


# --------------------------------------------------------------------------------------------
# Every operation runs with the current memberships


async def test_an_agent_removed_from_a_group_can_no_longer_read_or_act_on_its_cases_over_an_open_socket(
    servers: Servers, gql: GraphQLHttp
) -> None:
    # given: an agent of the group, reading its cases over a socket (queries and mutations run
    # over graphql-transport-ws only: the legacy graphql-ws serves subscriptions alone)
    world = servers.world
    agent, token = new_agent()
    desk = await open_desk(gql, world, [agent])
    async with ws_connect(servers.a.ws_url, token) as connection:
        assert (await run_once(connection, COUNT_CASES))["totalCount"] == 1
        # when: an administrator removes the agent from the group
        await remove_member(gql, world, desk.group, agent)
        # then: on the old socket nothing more is read or done in the group's name
        await assert_refused(connection, WORK_NOTES, {"id": desk.case_id})
        await assert_refused(connection, ASSIGN_TO_ME, {"caseId": desk.case_id})
        code, reason = await connection.wait_closed(CLOSE_TIMEOUT)
    assert code == FORBIDDEN, (code, reason)
    assert await assignee(gql, world, desk) is None
    # and a fresh connection runs as the agent now is: no longer in the group
    async with ws_connect(servers.a.ws_url, mint_token(agent, Role.AGENT)) as connection:
        assert (await run_once(connection, COUNT_CASES))["totalCount"] == 0


@pytest.mark.parametrize("where", ["same process", "other process"])
async def test_removal_from_a_group_ends_the_agents_subscriptions_with_4403(
    servers: Servers, gql: GraphQLHttp, protocol: str, where: str
) -> None:
    # given: an agent of the group following its case, on process A or B; the administrator
    # works on process A
    world = servers.world
    agent, token = new_agent()
    desk = await open_desk(gql, world, [agent])
    socket_server = servers.a if where == "same process" else servers.b
    async with ws_connect(socket_server.ws_url, token, protocol=protocol) as connection:
        following = await follow_case(connection, desk)
        assert (await following.next())["id"] == desk.created
        # when
        await remove_member(gql, world, desk.group, agent)
        # then: the subscription, decided with the old memberships, ends with the connection (at
        # once with a broadcast, at B's next recheck of memberships without one)
        code, reason = await connection.wait_closed(CLOSE_TIMEOUT)
        await assert_not_run(following)
    assert code == FORBIDDEN, (code, reason)
    # and the client, reconnecting, is refused the case
    async with ws_connect(socket_server.ws_url, mint_token(agent, Role.AGENT), protocol=protocol) as connection:
        refused = await (await follow_case(connection, desk)).message()
    assert refused["type"] == "error" or refused["payload"].get("errors"), refused


async def test_a_group_gained_counts_for_the_next_operation_on_an_open_socket(
    servers: Servers, gql: GraphQLHttp
) -> None:
    # given: an agent with a socket open, not (yet) in the group (queries and mutations: over
    # graphql-transport-ws; subscriptions read the memberships when they start, on both protocols)
    world = servers.world
    agent, token = new_agent()
    desk = await open_desk(gql, world, [])
    async with ws_connect(servers.a.ws_url, token) as connection:
        assert (await run_once(connection, COUNT_CASES))["totalCount"] == 0
        # when
        await add_member(gql, world, desk.group, agent)
        # then: the same socket sees the group's case, and may act on it
        assert (await run_once(connection, COUNT_CASES))["totalCount"] == 1
        assigned = await run_once(connection, ASSIGN_TO_ME, {"caseId": desk.case_id})
        assert assigned["errors"] == [] and assigned["case"]["assignedTo"]["id"] == agent


# --------------------------------------------------------------------------------------------
# Membership removal ends what the user may no longer see, presence included


@pytest.mark.parametrize("where", ["same process", "other process"])
async def test_removal_from_a_group_ends_the_agents_presence_and_subscriptions_at_once(
    servers: Servers, gql: GraphQLHttp, protocol: str, where: str
) -> None:
    # given: two agents of the group on its case, one of them also following its events
    world = servers.world
    leaving, leaving_token = new_agent()
    staying, staying_token = new_agent()
    desk = await open_desk(gql, world, [leaving, staying])
    leaving_server = servers.a if where == "same process" else servers.b
    # Presence crosses processes only with a broadcast: both watch on the same one.
    async with ws_connect(leaving_server.ws_url, staying_token, protocol=protocol) as staying_ws:
        watch = await staying_ws.subscribe(PRESENCE, {"caseId": desk.case_id})
        assert await viewers(watch) == [staying]
        async with ws_connect(leaving_server.ws_url, leaving_token, protocol=protocol) as leaving_ws:
            leaving_presence = await leaving_ws.subscribe(PRESENCE, {"caseId": desk.case_id})
            events = await follow_case(leaving_ws, desk)
            assert (await events.next())["id"] == desk.created  # registered before the removal
            assert sorted([leaving, staying]) == await viewers(leaving_presence)
            assert await viewers(watch) == sorted([leaving, staying])
            # when
            await remove_member(gql, world, desk.group, leaving)
            # then: the other agent sees them go (not when their entry would have expired)
            assert await viewers(watch) == [staying]
            code, _ = await leaving_ws.wait_closed(CLOSE_TIMEOUT)
            assert code == FORBIDDEN
            # and their event subscription is over: the case's next event does not reach it
            await update_description(gql, world, "alice", desk.case_id, "Checked again.")
            await assert_not_run(events)


# --------------------------------------------------------------------------------------------
# Token expiry


async def test_a_socket_is_closed_with_4403_when_its_token_expires_and_resumes_with_a_fresh_token(
    servers: Servers, gql: GraphQLHttp, protocol: str
) -> None:
    # given: an agent following the group's case with a token the server accepts a few seconds more
    world = servers.world
    agent, fresh_token = new_agent()
    desk = await open_desk(gql, world, [agent])
    expiring = issue_token(
        Settings(jwt_secret=TEST_SECRET),
        sub=agent,
        roles=[Role.AGENT],
        ttl=timedelta(seconds=STILL_VALID_FOR - LEEWAY_SECONDS),
    )
    async with ws_connect(servers.a.ws_url, expiring, protocol=protocol) as connection:
        events = await connection.subscribe(
            case_events_query("id sequence"), {"caseId": desk.case_id, "after": desk.created}
        )
        seen = await update_description(gql, world, "alice", desk.case_id, "Before the token expired.")
        assert (await events.next())["id"] == seen["id"]
        # when: the token expires
        code, reason = await connection.wait_closed(CLOSE_TIMEOUT + STILL_VALID_FOR)
    # then
    assert code == FORBIDDEN, (code, reason)
    # and with a fresh token the client resumes where it was, missing nothing
    missed = await update_description(gql, world, "alice", desk.case_id, "While it reconnected.")
    async with ws_connect(servers.a.ws_url, fresh_token, protocol=protocol) as connection:
        resumed = await connection.subscribe(
            case_events_query("id sequence"), {"caseId": desk.case_id, "after": seen["id"]}
        )
        assert (await resumed.next())["id"] == missed["id"]
