"""Subscriptions over real sockets against one real ``casegraph serve`` (SQLite file, memory://).

api.md *Subscriptions* and *Authentication*; issue 3: ordered delivery, resume with ``after``,
per-subscriber visibility, unauthenticated and forbidden subscriptions, the legacy protocol,
cross-origin handshakes, limits, a prompt exit on SIGTERM, and the queue counters feed.

Each test makes its own cases (and groups where it changes memberships), so the tests share one
server without seeing each other's events.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from casegraph.auth import issue_token
from casegraph.domain.enums import Role
from casegraph.settings import Settings
from tests.conftest import TEST_SECRET
from tests.live.support import (
    LEGACY_WS,
    GraphQLHttp,
    LiveWorld,
    ServerProcess,
    WsClosed,
    assert_strictly_increasing,
    case_events_query,
    create_case,
    create_case_type,
    create_group,
    live_world,
    sequences,
    server_env,
    set_up_world,
    sqlite_server,
    start_server,
    update_description,
    ws_connect,
)

DASHBOARD_ORIGIN = "http://dashboard.example"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with sqlite_server(tmp_path_factory, "sqlite", allowed_origins=DASHBOARD_ORIGIN) as process:
        yield process


@pytest.fixture(scope="module")
def world(server: ServerProcess) -> LiveWorld:
    return live_world(server)


@pytest.fixture
async def gql(server: ServerProcess) -> AsyncIterator[GraphQLHttp]:
    async with GraphQLHttp(server.http_url) as client:
        yield client


def _before(event_id: str) -> str:
    """An ``after`` that replays exactly from ``event_id`` on: proves the subscription is registered."""
    return str(int(event_id) - 1)


# --------------------------------------------------------------------------------------------
# Ordered delivery


async def test_a_burst_of_concurrent_mutations_arrives_in_sequence_order_with_none_missing(
    server: ServerProcess, world: LiveWorld, gql: GraphQLHttp
) -> None:
    # given: alice's three cases, watched by alice (all her cases) and by dana (all of ROADS)
    cases = [await create_case(gql, world, "alice", f"Burst {n}") for n in range(3)]
    first_created = cases[0][1]
    async with (
        ws_connect(server.ws_url, world.token("alice")) as alice,
        ws_connect(server.ws_url, world.token("dana")) as dana,
    ):
        watchers = [
            await alice.subscribe(case_events_query(), {"after": _before(first_created)}),
            await dana.subscribe(case_events_query(), {"after": _before(first_created)}),
        ]
        for watcher in watchers:
            assert sequences(await watcher.take(3)) == sorted(int(created) for _, created in cases)
        # when: 30 updates at once, 10 per case
        recorded = await asyncio.gather(
            *(
                update_description(gql, world, "alice", case_id, f"burst {case_id[:4]} #{n}")
                for n in range(10)
                for case_id, _ in cases
            )
        )
        expected = sorted(int(event["sequence"]) for event in recorded)
        # then: every watcher gets all 30, strictly increasing by sequence, nothing else
        for watcher in watchers:
            received = await watcher.take(len(expected), timeout=20)
            assert sequences(received) == expected
            assert_strictly_increasing(sequences(received))
            for case_id, _ in cases:
                versions = [event["version"] for event in received if event["case"]["id"] == case_id]
                assert versions == list(range(2, 12)), versions
            await watcher.assert_silent(0.5)


# --------------------------------------------------------------------------------------------
# Resume with `after`


async def test_resuming_with_after_replays_the_missed_events_then_continues_live_without_gap_or_duplicate(
    server: ServerProcess, world: LiveWorld, gql: GraphQLHttp
) -> None:
    # given: alice watched her case, saw its creation and three updates, then went away
    case_id, created = await create_case(gql, world, "alice", "Resume me")
    async with ws_connect(server.ws_url, world.token("alice")) as first:
        watch = await first.subscribe(case_events_query(), {"caseId": case_id, "after": _before(created)})
        assert sequences(await watch.take(1)) == [int(created)]
        seen = [await update_description(gql, world, "alice", case_id, f"online {n}") for n in range(3)]
        received = await watch.take(3)
        assert sequences(received) == [int(e["sequence"]) for e in seen]
    last_id = received[-1]["id"]
    # when: four changes while she is away, then she reconnects with `after` while more keep coming
    missed = [await update_description(gql, world, "alice", case_id, f"offline {n}") for n in range(4)]

    async def changes_during_reconnect() -> list[dict[str, Any]]:
        return [await update_description(gql, world, "alice", case_id, f"seam {n}") for n in range(5)]

    async with ws_connect(server.ws_url, world.token("alice")) as second:
        during = asyncio.create_task(changes_during_reconnect())
        resumed = await second.subscribe(case_events_query(), {"caseId": case_id, "after": last_id})
        seam = await during
        later = [await update_description(gql, world, "alice", case_id, f"live {n}") for n in range(2)]
        expected = [int(e["sequence"]) for e in missed + seam + later]
        # then: the missed ones first, then the rest, each exactly once, in order
        got = await resumed.take(len(expected), timeout=15)
        assert sequences(got) == expected
        assert [e["version"] for e in got] == list(range(5, 5 + len(expected)))
        await resumed.assert_silent(0.7)


async def test_after_must_be_an_event_id(server: ServerProcess, world: LiveWorld) -> None:
    async with ws_connect(server.ws_url, world.token("alice")) as connection:
        watch = await connection.subscribe(case_events_query(), {"after": "not-an-id"})
        message = await watch.message()
    assert message["type"] in ("next", "error"), message
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert errors[0]["extensions"]["code"] == "VALIDATION_FAILED"


# --------------------------------------------------------------------------------------------
# Visibility, per subscriber and per event


async def test_a_constituent_never_receives_another_constituents_case(
    server: ServerProcess, world: LiveWorld, gql: GraphQLHttp
) -> None:
    # given: alice and bob each watch every case they may see; dana watches ROADS
    alice_case, alice_created = await create_case(gql, world, "alice", "Alice's pothole")
    bob_case, bob_created = await create_case(gql, world, "bob", "Bob's pothole")
    start = _before(alice_created)
    async with (
        ws_connect(server.ws_url, world.token("alice")) as alice,
        ws_connect(server.ws_url, world.token("bob")) as bob,
        ws_connect(server.ws_url, world.token("dana")) as dana,
    ):
        alice_feed = await alice.subscribe(case_events_query(), {"after": start})
        bob_feed = await bob.subscribe(case_events_query(), {"after": start})
        dana_feed = await dana.subscribe(case_events_query(), {"after": start})
        # when: both constituents keep changing their own cases, interleaved
        changes = []
        for n in range(3):
            changes.append(await update_description(gql, world, "bob", bob_case, f"bob {n}"))
            changes.append(await update_description(gql, world, "alice", alice_case, f"alice {n}"))
        final_bob = await update_description(gql, world, "bob", bob_case, "bob done")
        final_alice = await update_description(gql, world, "alice", alice_case, "alice done")
        # then
        alice_got = await alice_feed.take_until(lambda e: e["id"] == final_alice["id"])
        bob_got = await bob_feed.take_until(lambda e: e["id"] == final_bob["id"])
        dana_got = await dana_feed.take(2 + len(changes) + 2)
    assert {e["case"]["id"] for e in alice_got} == {alice_case}
    assert {e["case"]["requester"]["id"] for e in alice_got} == {"alice"}
    assert {e["case"]["id"] for e in bob_got} == {bob_case}
    assert len(alice_got) == 1 + 3 + 1 and len(bob_got) == 1 + 3 + 1
    assert {e["case"]["id"] for e in dana_got} == {alice_case, bob_case}
    assert sequences(dana_got) == sorted(
        [int(alice_created), int(bob_created)] + [int(e["sequence"]) for e in [*changes, final_bob, final_alice]]
    )


async def test_an_agent_removed_from_a_group_stops_receiving_its_cases(
    server: ServerProcess, world: LiveWorld, gql: GraphQLHttp
) -> None:
    # given: LIGHTS holds ivan and judy; both watch everything they may see
    group = f"LIGHTS{uuid.uuid4().hex[:6].upper()}"
    case_type = f"LAMP{uuid.uuid4().hex[:6].upper()}"
    await create_group(gql, world, group, ["ivan", "judy"])
    await create_case_type(gql, world, case_type, "PUBLIC_SERVICE", group)
    case_id, created = await create_case(gql, world, "alice", "Lamp out", case_type)
    async with (
        ws_connect(server.ws_url, world.token("ivan")) as ivan,
        ws_connect(server.ws_url, world.token("judy")) as judy,
    ):
        ivan_feed = await ivan.subscribe(case_events_query(), {"after": _before(created)})
        judy_feed = await judy.subscribe(case_events_query(), {"after": _before(created)})
        queue_feed = await ivan.subscribe(
            f'subscription {{ queueEvents(groupCode: "{group}", after: "{_before(created)}") {{ id }} }}'
        )
        assert sequences(await ivan_feed.take(1)) == [int(created)]
        assert [e["id"] for e in await queue_feed.take(1)] == [created]
        assert sequences(await judy_feed.take(1)) == [int(created)]
        # when: the admin removes ivan from LIGHTS, then the group's cases change
        await gql.mutate(
            "removeGroupMember",
            {"groupCode": group, "userId": "ivan"},
            "assignmentGroup { code }",
            token=world.token("ada"),
        )
        update = await update_description(gql, world, "alice", case_id, "Still out")
        second_case, second_created = await create_case(gql, world, "alice", "Another lamp", case_type)
        # then: judy gets both; ivan gets nothing more on either feed: his connection is closed
        # (4403, issue 14 §1) and whatever he subscribes to again is authorized afresh
        assert sequences(await judy_feed.take(2)) == [int(update["sequence"]), int(second_created)]
        assert (await ivan.wait_closed())[0] == 4403
        assert (await ivan_feed.message())["type"] == "__closed__"
        assert (await queue_feed.message())["type"] == "__closed__"
    assert second_case != case_id


# --------------------------------------------------------------------------------------------
# Authentication and authorization


def _token_signed_with(secret: str, ttl: timedelta = timedelta(hours=1)) -> str:
    return issue_token(Settings(jwt_secret=secret), sub="alice", roles=[Role.CONSTITUENT], ttl=ttl)


@pytest.mark.parametrize(
    "init_payload",
    [
        pytest.param({}, id="no-token"),
        pytest.param({"Authorization": "Bearer not-a-jwt"}, id="garbage-token"),
        pytest.param(
            {"Authorization": f"Bearer {_token_signed_with('someone-elses-secret-of-at-least-32-bytes')}"},
            id="foreign-secret",
        ),
        pytest.param(
            {"Authorization": f"Bearer {_token_signed_with(TEST_SECRET, timedelta(minutes=-10))}"}, id="expired"
        ),
        pytest.param({"Authorization": "Basic YWxpY2U6c2VjcmV0"}, id="not-bearer"),
    ],
)
async def test_a_connection_without_a_valid_token_is_closed_with_4403(
    server: ServerProcess, init_payload: dict[str, str]
) -> None:
    with pytest.raises(WsClosed) as closed:
        async with ws_connect(server.ws_url, None, init_payload=init_payload):
            pass
    assert closed.value.code == 4403


async def test_watching_a_case_the_user_may_not_see_gives_an_error_for_that_operation_and_no_events(
    server: ServerProcess, world: LiveWorld, gql: GraphQLHttp
) -> None:
    # given: alice's case; bob may not see it
    case_id, created = await create_case(gql, world, "alice", "Private to alice")
    async with ws_connect(server.ws_url, world.token("bob")) as bob:
        # when
        refused = await bob.subscribe(case_events_query(), {"caseId": case_id, "after": _before(created)})
        message = await refused.message()
        # then: an error for that operation only (NOT_FOUND: an invisible case does not exist)
        if message["type"] == "next":
            assert message["payload"]["data"] is None
            errors = message["payload"]["errors"]
            end = await refused.message()
            assert end["type"] == "complete", end
        else:
            assert message["type"] == "error", message
            errors = message["payload"]
        assert errors[0]["extensions"]["code"] == "NOT_FOUND"
        assert "Private to alice" not in str(message)
        # and: changes to the case reach bob on no operation; his connection still works
        own_case, own_created = await create_case(gql, world, "bob", "Bob's own")
        own = await bob.subscribe(case_events_query(), {"caseId": own_case, "after": _before(own_created)})
        await update_description(gql, world, "alice", case_id, "still private")
        assert sequences(await own.take(1)) == [int(own_created)]
        await refused.assert_silent(0.7)
        await own.assert_silent(0.1)


async def test_a_queue_feed_of_a_group_the_agent_is_not_in_is_refused(server: ServerProcess, world: LiveWorld) -> None:
    async with ws_connect(server.ws_url, world.token("dana")) as dana:
        refused = await dana.subscribe('subscription { queueEvents(groupCode: "BENEFITS") { id } }')
        counters = await dana.subscribe('subscription { queueCounters(groupCode: "BENEFITS") { total } }')
        messages = [await refused.message(), await counters.message()]
    for message in messages:
        errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
        assert errors[0]["extensions"]["code"] == "NOT_FOUND", message


async def test_a_connection_may_hold_at_most_20_subscriptions(server: ServerProcess, world: LiveWorld) -> None:
    async with ws_connect(server.ws_url, world.token("alice")) as alice:
        allowed = [await alice.subscribe(case_events_query()) for _ in range(20)]
        refused = await alice.subscribe(case_events_query())
        message = await refused.message()
        assert message["type"] == "error" and "limit" in message["payload"][0]["message"].lower(), message
        # closing one makes room for another
        await allowed[0].stop()
        await asyncio.sleep(0.2)
        replacement = await alice.subscribe(case_events_query())
        await replacement.assert_silent(0.3)


# --------------------------------------------------------------------------------------------
# Protocols and handshakes


async def test_the_legacy_graphql_ws_protocol_delivers_events(
    server: ServerProcess, world: LiveWorld, gql: GraphQLHttp
) -> None:
    case_id, created = await create_case(gql, world, "alice", "Old dashboard")
    async with ws_connect(server.ws_url, world.token("alice"), protocol=LEGACY_WS) as legacy:
        watch = await legacy.subscribe(case_events_query(), {"caseId": case_id, "after": _before(created)})
        assert sequences(await watch.take(1)) == [int(created)]
        update = await update_description(gql, world, "alice", case_id, "seen by an old client")
        assert sequences(await watch.take(1)) == [int(update["sequence"])]


async def test_the_legacy_protocol_refuses_a_bad_token(server: ServerProcess) -> None:
    with pytest.raises(WsClosed) as closed:
        async with ws_connect(server.ws_url, None, protocol=LEGACY_WS, init_payload={"Authorization": "Bearer x"}):
            pass
    assert closed.value.code is not None and closed.value.code != 1000


async def test_a_cross_origin_handshake_is_refused_unless_the_origin_is_configured(
    server: ServerProcess, world: LiveWorld
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with ws_connect(server.ws_url, world.token("dana"), origin="http://evil.example"):
            pass
    assert refused.value.response.status_code == 403
    # the configured dashboard origin, the server's own origin and non-browser clients get in
    for origin in (DASHBOARD_ORIGIN, server.http_url, None):
        async with ws_connect(server.ws_url, world.token("dana"), origin=origin) as connection:
            assert connection.ws.subprotocol == "graphql-transport-ws"


# --------------------------------------------------------------------------------------------
# Dashboard counters


async def test_queue_counters_give_the_current_counts_then_an_update_after_each_change(
    server: ServerProcess, world: LiveWorld, gql: GraphQLHttp
) -> None:
    # given: PARKS (eli) with two new cases, one of which eli has taken
    group = f"PARKS{uuid.uuid4().hex[:6].upper()}"
    case_type = f"BENCH{uuid.uuid4().hex[:6].upper()}"
    await create_group(gql, world, group, ["eli"])
    await create_case_type(gql, world, case_type, "PUBLIC_SERVICE", group)
    taken, _ = await create_case(gql, world, "alice", "Broken bench", case_type)
    waiting, _ = await create_case(gql, world, "bob", "Wobbly bench", case_type)
    await gql.mutate("assignToMe", {"caseId": taken}, "case { status }", token=world.token("eli"))
    query = f'subscription {{ queueCounters(groupCode: "{group}") {{ groupCode total asOfSequence byStatus {{ status count }} }} }}'

    def by_status(counters: dict[str, Any]) -> dict[str, int]:
        return {row["status"]: row["count"] for row in counters["byStatus"] if row["count"]}

    async with ws_connect(server.ws_url, world.token("eli")) as eli:
        feed = await eli.subscribe(query)
        # then: the current counts first
        initial = await feed.next()
        assert initial["groupCode"] == group
        assert initial["total"] == 2 and by_status(initial) == {"NEW": 1, "OPEN": 1}
        # when: a third case arrives, then eli takes the waiting one
        _, third_created = await create_case(gql, world, "alice", "Bench on fire", case_type)
        after_new = await feed.take_until(lambda c: c["asOfSequence"] >= int(third_created))
        took = await gql.mutate("assignToMe", {"caseId": waiting}, "event { sequence }", token=world.token("eli"))
        after_take = await feed.take_until(lambda c: c["asOfSequence"] >= took["event"]["sequence"])
    assert after_new[-1]["total"] == 3 and by_status(after_new[-1]) == {"NEW": 2, "OPEN": 1}
    assert after_take[-1]["total"] == 3 and by_status(after_take[-1]) == {"NEW": 1, "OPEN": 2}
    assert initial["asOfSequence"] < after_new[-1]["asOfSequence"] < after_take[-1]["asOfSequence"]


# --------------------------------------------------------------------------------------------
# Shutdown


async def test_the_server_exits_promptly_on_sigterm_with_subscriptions_open(tmp_path: Path) -> None:
    # given: a server of its own with five open subscriptions, each live
    env = server_env(database_url=f"sqlite://{tmp_path / 'casegraph.sqlite3'}")
    server = await asyncio.to_thread(start_server, "sigterm", env, tmp_path)
    stopped = False
    try:
        world = await set_up_world(server.http_url)
        async with GraphQLHttp(server.http_url) as gql:
            case_id, created = await create_case(gql, world, "alice", "Shutdown")
        async with (
            ws_connect(server.ws_url, world.token("alice")) as one,
            ws_connect(server.ws_url, world.token("dana")) as two,
        ):
            feeds = [
                await connection.subscribe(case_events_query(), {"caseId": case_id, "after": _before(created)})
                for connection in (one, two, one, two, one)
            ]
            for feed in feeds:
                assert sequences(await feed.take(1)) == [int(created)]
            # when
            elapsed = await asyncio.to_thread(server.stop, 10.0)
            stopped = True
            # then: it exits by itself, quickly, and the clients see their connections closed
            assert elapsed < 5.0, f"took {elapsed:.1f}s to exit"
            # uvicorn re-raises the signal once its graceful shutdown is complete
            assert server.process.returncode in (0, -signal.SIGTERM), server.log_tail()
            assert "Application shutdown complete" in server.log_tail(), server.log_tail()
            for connection in (one, two):
                code, _ = await connection.wait_closed(5)
                assert code is not None
    finally:
        if not stopped:
            server.stop()
