"""A referral between two real casegraph instances on loopback, each with its own database (the
referring city on SQLite, the partner health department on PostgreSQL), configured only through
their GraphQL APIs. The partner is down when the case is referred: the referral waits in the
outbox, is delivered once the partner is back, exactly once, and the partner's decisions and
resolution flow back to the referring case, live."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from casegraph import partner_tokens
from tests.live.support import (
    GraphQLHttp,
    LiveWorld,
    ServerProcess,
    case_events_query,
    postgres_database,
    server_env,
    set_up_world,
    start_server,
    ws_connect,
)

SHARED_SECRET: Final = "city-and-health-share-this-secret-0123456789"
CITY_SECRET: Final = "city-jwt-secret-for-the-referral-test-0123456789"
HEALTH_SECRET: Final = "health-jwt-secret-for-the-referral-test-0123456789"
PARTNER_FIELDS: Final = "partner { code } sharedSecret"
REFERRAL_FIELDS: Final = """id status partnerCode remoteCaseId remoteCaseNumber remoteStage remoteStatus
  remoteResolutionCode remoteResolutionNotes reason lastError deliveredAt"""
CASE_REFERRALS: Final = f"query($id: ID!) {{ case(id: $id) {{ version status referrals {{ {REFERRAL_FIELDS} }} }} }}"
WAIT: Final = 45.0


async def eventually(check: Callable[[], Awaitable[Any]], what: str, timeout: float = WAIT) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def add_partner(gql: GraphQLHttp, world: LiveWorld, code: str, url: str, receive_type: str) -> None:
    await gql.mutate(
        "createPartnerAgency",
        {
            "code": code,
            "name": f"{code.title()} agency",
            "graphqlUrl": url,
            "sharedSecret": SHARED_SECRET,
            "receiveCaseTypeCode": receive_type,
        },
        PARTNER_FIELDS,
        token=world.token("ada"),
    )


def city_outbox_rows(database: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT kind, status, attempts FROM outbox_deliveries ORDER BY event_sequence"
        ).fetchall()


async def test_a_referral_round_trip_survives_the_partner_being_down_and_is_delivered_exactly_once(
    tmp_path: Path,
) -> None:
    city_db = tmp_path / "city.sqlite3"
    with postgres_database() as health_url:
        health_env = server_env(
            database_url=health_url, secret=HEALTH_SECRET, agency_code="HEALTH", outbox_interval="0.2"
        )
        city_env = server_env(
            database_url=f"sqlite://{city_db}", secret=CITY_SECRET, agency_code="CITY", outbox_interval="0.2"
        )
        # given: the health department set up (its world, and the city as a partner whose referrals
        # become PAYMENT cases of its BENEFITS group), then taken down
        health: ServerProcess = start_server("health", health_env, tmp_path / "health")
        health_port = health.port
        city = start_server("city", city_env, tmp_path / "city")
        try:
            health_world = await set_up_world(health.http_url, secret=HEALTH_SECRET)
            city_world = await set_up_world(city.http_url, secret=CITY_SECRET)
            async with GraphQLHttp(health.http_url) as gql:
                await add_partner(gql, health_world, "CITY", f"{city.http_url}/graphql", "PAYMENT")
            health.stop()
            async with GraphQLHttp(city.http_url) as gql:
                await add_partner(gql, city_world, "HEALTH", f"http://127.0.0.1:{health_port}/graphql", "POTHOLE")
                case = await gql.mutate(
                    "createCase",
                    {
                        "caseTypeCode": "POTHOLE",
                        "title": "Rats near the drain",
                        "description": "Seen every night.",
                        "impact": 2,
                        "urgency": 2,
                    },
                    "case { id number }",
                    token=city_world.token("alice"),
                )
                case_id = case["case"]["id"]
                await gql.mutate("assignToMe", {"caseId": case_id}, "case { status }", token=city_world.token("dana"))

                async with ws_connect(city.ws_url, city_world.token("dana")) as socket:
                    live = await socket.subscribe(case_events_query("sequence action details"), {"caseId": case_id})

                    # when: dana refers the case while the partner is down
                    referred = await gql.mutate(
                        "referCase",
                        {"caseId": case_id, "partnerCode": "HEALTH", "note": "Pest control is yours"},
                        f"referral {{ {REFERRAL_FIELDS} }}",
                        token=city_world.token("dana"),
                    )
                    assert referred["referral"]["status"] == "PENDING"

                    async def referral() -> dict[str, Any]:
                        data = await gql.data(CASE_REFERRALS, {"id": case_id}, token=city_world.token("dana"))
                        [only] = data["case"]["referrals"]
                        return dict(only)

                    # then: an attempt fails and is kept for a retry, shown on the referral
                    failed = await eventually(lambda: _when(referral(), lambda r: r["lastError"]), "a failed attempt")
                    assert failed["status"] == "PENDING" and "Connect" in failed["lastError"]

                    # when: the partner comes back where it was
                    health = start_server("health", health_env, tmp_path / "health", port=health_port)
                    delivered = await eventually(
                        lambda: _when(referral(), lambda r: r["status"] == "DELIVERED"),
                        "delivery after the partner came back",
                    )
                    assert delivered["lastError"] is None and delivered["remoteCaseNumber"]

                    # then: the partner has exactly one PARTNER case for it, linked back
                    async with GraphQLHttp(health.http_url) as partner:
                        cases = await partner.data(
                            "{ cases(first: 50) { edges { node { id number channel status title description caseType { code } } } } }",
                            token=health_world.token("ada"),
                        )
                        nodes = [edge["node"] for edge in cases["cases"]["edges"]]
                        assert [n["channel"] for n in nodes] == ["PARTNER"]
                        received = nodes[0]
                        assert received["id"] == delivered["remoteCaseId"]
                        assert received["number"] == delivered["remoteCaseNumber"]
                        assert (
                            received["caseType"] == {"code": "PAYMENT"} and received["title"] == "Rats near the drain"
                        )
                        assert case["case"]["number"] in received["description"]
                        assert "Pest control is yours" in received["description"]

                        # and: the city's casegraph sending it again (an answer lost) files nothing new
                        token = partner_tokens.mint(
                            sender="CITY", receiver="HEALTH", secret=SHARED_SECRET, now=datetime.now(UTC)
                        )
                        again = await partner.data(
                            "mutation($input: ReceiveReferralInput!) { receiveReferral(input: $input) {"
                            " referral { caseId created } errors { code } } }",
                            {
                                "input": {
                                    "referralId": referred["referral"]["id"],
                                    "caseId": case_id,
                                    "caseNumber": case["case"]["number"],
                                    "title": "Rats near the drain",
                                }
                            },
                            token=token,
                        )
                        assert again["receiveReferral"]["referral"] == {"caseId": received["id"], "created": False}
                        recount = await partner.data("{ cases { totalCount } }", token=health_world.token("ada"))
                        assert recount["cases"]["totalCount"] == 1

                        # when: grace (BENEFITS) takes the case and resolves it
                        await partner.mutate(
                            "assignToMe",
                            {"caseId": received["id"]},
                            "case { status }",
                            token=health_world.token("grace"),
                        )
                        await partner.mutate(
                            "proposeSolution",
                            {
                                "caseId": received["id"],
                                "resolutionCode": "SOLVED",
                                "resolutionNotes": "Baited and sealed the drain.",
                            },
                            "case { status }",
                            token=health_world.token("grace"),
                        )

                    # then: the city's referral shows it, and dana saw each step live
                    resolved = await eventually(
                        lambda: _when(referral(), lambda r: r["remoteStatus"] == "RESOLVED"), "the partner's resolution"
                    )
                    assert resolved["status"] == "ACCEPTED" and resolved["remoteResolutionCode"] == "SOLVED"
                    assert resolved["remoteResolutionNotes"] == "Baited and sealed the drain."
                    seen = await live.take_until(lambda e: e["details"].get("remoteStatus") == "RESOLVED")
                    updates = [e["details"] for e in seen if e["action"] == "REFERRAL_UPDATE"]
                    assert [u["status"] for u in updates] == ["DELIVERED", "ACCEPTED", "ACCEPTED"]
                    assert [u["remoteStatus"] for u in updates][1:] == ["OPEN", "RESOLVED"]
                    assert [e["action"] for e in seen].count("REFER") == 1

                # and: dana proposes the solution as solved by the partner
                done = await gql.mutate(
                    "proposeSolution",
                    {
                        "caseId": case_id,
                        "resolutionCode": "SOLVED_BY_PARTNER",
                        "resolutionNotes": "The health department handled it.",
                    },
                    "case { status resolutionCode }",
                    token=city_world.token("dana"),
                )
                assert done["case"] == {"status": "RESOLVED", "resolutionCode": "SOLVED_BY_PARTNER"}

                # when: alice accepts the city's solution
                await gql.mutate(
                    "acceptSolution", {"caseId": case_id}, "case { status }", token=city_world.token("alice")
                )

            # then: the health department's case closes too, recorded as the city's acceptance
            async with GraphQLHttp(health.http_url) as partner:

                async def partner_case() -> dict[str, Any]:
                    data = await partner.data(
                        "query($id: ID!) { case(id: $id) { status history { edges { node { action actor { id } } } } } }",
                        {"id": received["id"]},
                        token=health_world.token("ada"),
                    )
                    return dict(data["case"])

                closed = await eventually(
                    lambda: _when(partner_case(), lambda c: c["status"] == "CLOSED"),
                    "the partner's case to close with the city's",
                )
                assert closed["history"]["edges"][-1]["node"] == {
                    "action": "ACCEPT_SOLUTION",
                    "actor": {"id": "partner:CITY"},
                }

            # and: each outbox message was delivered once: the referral after 2+ attempts, the outcome at once
            async def settled() -> bool:
                return all(status == "DELIVERED" for _, status, _ in city_outbox_rows(city_db))

            await eventually(settled, "the city's outbox to settle")
            rows = city_outbox_rows(city_db)
            assert [kind for kind, _, _ in rows] == ["referral", "referral_outcome"] and rows[0][2] >= 2
            assert rows[1][2] == 1
        finally:
            city.stop()
            health.stop()


async def _when(value: Awaitable[dict[str, Any]], predicate: Callable[[dict[str, Any]], Any]) -> dict[str, Any] | None:
    result = await value
    return result if predicate(result) else None


async def test_a_case_cancelled_before_its_referral_arrives_closes_the_partners_case_once_it_does(
    tmp_path: Path,
) -> None:
    city_db = tmp_path / "city.sqlite3"
    with postgres_database() as health_url:
        health_env = server_env(
            database_url=health_url, secret=HEALTH_SECRET, agency_code="HEALTH", outbox_interval="0.2"
        )
        city_env = server_env(
            database_url=f"sqlite://{city_db}", secret=CITY_SECRET, agency_code="CITY", outbox_interval="0.2"
        )
        # given: the health department set up, then taken down
        health: ServerProcess = start_server("health", health_env, tmp_path / "health")
        health_port = health.port
        city = start_server("city", city_env, tmp_path / "city")
        try:
            health_world = await set_up_world(health.http_url, secret=HEALTH_SECRET)
            city_world = await set_up_world(city.http_url, secret=CITY_SECRET)
            async with GraphQLHttp(health.http_url) as gql:
                await add_partner(gql, health_world, "CITY", f"{city.http_url}/graphql", "PAYMENT")
            health.stop()
            async with GraphQLHttp(city.http_url) as gql:
                await add_partner(gql, city_world, "HEALTH", f"http://127.0.0.1:{health_port}/graphql", "POTHOLE")
                case = await gql.mutate(
                    "createCase",
                    {
                        "caseTypeCode": "POTHOLE",
                        "title": "Wasps in the shed",
                        "description": "A big nest.",
                        "impact": 2,
                        "urgency": 2,
                    },
                    "case { id number }",
                    token=city_world.token("alice"),
                )
                case_id = case["case"]["id"]
                await gql.mutate("assignToMe", {"caseId": case_id}, "case { status }", token=city_world.token("dana"))
                await gql.mutate(
                    "referCase",
                    {"caseId": case_id, "partnerCode": "HEALTH"},
                    f"referral {{ {REFERRAL_FIELDS} }}",
                    token=city_world.token("dana"),
                )

                async def referral() -> dict[str, Any]:
                    data = await gql.data(CASE_REFERRALS, {"id": case_id}, token=city_world.token("dana"))
                    [only] = data["case"]["referrals"]
                    return dict(only)

                await eventually(lambda: _when(referral(), lambda r: r["lastError"]), "a failed attempt")
                # when: alice cancels her case while the referral still waits for the partner
                cancelled = await gql.mutate(
                    "cancelCase",
                    {"caseId": case_id, "reason": "The wasps left."},
                    "case { status }",
                    token=city_world.token("alice"),
                )
                assert cancelled["case"]["status"] == "CANCELLED"
                # and the partner comes back: the referral is delivered
                health = start_server("health", health_env, tmp_path / "health", port=health_port)
                await eventually(lambda: _when(referral(), lambda r: r["status"] == "DELIVERED"), "the delivery")

            # then: the partner's case for it closes, as the city's withdrawal
            async with GraphQLHttp(health.http_url) as partner:

                async def partner_case() -> dict[str, Any] | None:
                    data = await partner.data(
                        "{ cases(first: 50) { edges { node { status history { edges { node { action actor { id } } } } } } } }",
                        token=health_world.token("ada"),
                    )
                    nodes = [edge["node"] for edge in data["cases"]["edges"]]
                    return nodes[0] if nodes and nodes[0]["status"] == "CLOSED" else None

                closed = await eventually(partner_case, "the partner's case to close with the city's")
                assert closed["history"]["edges"][-1]["node"] == {"action": "CLOSE", "actor": {"id": "partner:CITY"}}

            # and: the city sent the referral, then its outcome, each delivered once
            async def settled() -> bool:
                return all(status == "DELIVERED" for _, status, _ in city_outbox_rows(city_db))

            await eventually(settled, "the city's outbox to settle")
            rows = city_outbox_rows(city_db)
            assert [kind for kind, _, _ in rows] == ["referral", "referral_outcome"]
            assert rows[1][2] == 1
        finally:
            city.stop()
            health.stop()
