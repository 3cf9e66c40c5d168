"""``assignToMe`` latency on SQLite with no other load (issue 8: p50 under 5 ms).

    python -m bench.assign [--mutations 200]

Over HTTP: a real ``casegraph serve`` on a fresh SQLite file (production settings, one worker),
one client (the standard library's ``http.client``) on one keep-alive connection sending the
mutations one after another, each on a fresh unassigned case of the agent's group (filed beforehand by a constituent; the case type has SLA
policies, so taking a case also stops its response clock). Timed from request to parsed answer.
For reference, the same service call in-process (``services.case_actions.perform``, no HTTP or
GraphQL) on a database set up the same way.

And what a WebSocket adds to each operation (issue 14 §1): re-authorizing it as the agent is
now (``Session.current_actor``: the token's validity, then the memberships), with the
memberships cached as between changes, and read from the database as after a change.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPConnection
from pathlib import Path
from typing import Any, Final

import httpx
import uvloop
from tortoise.context import TortoiseContext

from bench import report
from bench.casegraph_server import casegraph_server, token
from bench.dataset_world import SLA_MINUTES
from casegraph.composition import install_case_extensions
from casegraph.db import migrate, tortoise_config
from casegraph.domain.enums import CaseAction, Role, Workflow
from casegraph.domain.relations import Actor
from casegraph.events.access import AccessBoard
from casegraph.fanout.sessions import Session
from casegraph.services import admin
from casegraph.services.case_actions import ActionRequest, perform
from casegraph.services.case_creation import NewCase, create_case
from casegraph.services.publisher import NullPublisher
from casegraph.services.sla_config import set_sla_policy
from casegraph.services.users import Claims, build_actor, provision
from tests.perf.documents import ASSIGN_TO_ME, CREATE_CASE  # test_action_cost.py guards these same documents

AGENT: Final = "agent-1"
CONSTITUENT: Final = "alice"
GROUP: Final = "ROADS"
CASE_TYPE: Final = "POTHOLE"
WARMUP: Final = 10


@dataclass(frozen=True)
class Timing:
    count: int
    p50_ms: float
    p99_ms: float
    mean_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Timing:
        ordered = sorted(s * 1000 for s in seconds)
        return cls(len(ordered), _percentile(ordered, 0.50), _percentile(ordered, 0.99), statistics.fmean(ordered))


@dataclass(frozen=True)
class AssignReport:
    http: Timing
    in_process: Timing
    reauthorize_cached: Timing
    reauthorize_read: Timing


def _percentile(ordered: Sequence[float], share: float) -> float:
    """Nearest rank: the smallest value with at least ``share`` of all values at or below it."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _gql(http: httpx.Client, bearer: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers={"Authorization": f"Bearer {bearer}"}
    )
    body: dict[str, Any] = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"{query.split()[1]} failed: {response.status_code} {body}")
    data: dict[str, Any] = body["data"]
    for payload in data.values():
        if isinstance(payload, dict) and payload.get("errors"):
            raise RuntimeError(f"{query.split()[1]} refused: {payload['errors']}")
    return data


def _set_up_over_http(http: httpx.Client, cases: int) -> list[str]:
    admin_token = token("admin", Role.ADMIN)
    _gql(
        http,
        admin_token,
        f'mutation {{ createAssignmentGroup(input: {{code: "{GROUP}", name: "Roads"}}) {{ errors {{ code }} }} }}',
    )
    _gql(
        http,
        admin_token,
        f'mutation {{ createCaseType(input: {{code: "{CASE_TYPE}", name: "Pothole", '
        f'workflow: PUBLIC_SERVICE, assignmentGroupCode: "{GROUP}"}}) {{ errors {{ code }} }} }}',
    )
    for priority, (response, resolution) in SLA_MINUTES.items():
        _gql(
            http,
            admin_token,
            "mutation($p: Int!, $r: Int!, $s: Int!) { setSlaPolicy(input: {caseTypeCode: "
            f'"{CASE_TYPE}", priority: $p, responseMinutes: $r, resolutionMinutes: $s}}) {{ errors {{ code }} }} }}',
            {"p": priority, "r": response, "s": resolution},
        )
    _gql(
        http,
        admin_token,
        f'mutation {{ addGroupMember(input: {{groupCode: "{GROUP}", userId: "{AGENT}"}}) {{ errors {{ code }} }} }}',
    )
    constituent = token(CONSTITUENT, Role.CONSTITUENT, name="Alice")
    return [
        _gql(http, constituent, CREATE_CASE, {"title": f"Pothole {i}"})["createCase"]["case"]["id"]
        for i in range(cases)
    ]


def measure_http(mutations: int) -> Timing:
    with tempfile.TemporaryDirectory(prefix="casegraph-bench-assign.") as tmp:
        database = f"sqlite://{tmp}/assign.sqlite3"
        with (
            casegraph_server(database_url=database, broadcast_url="memory://", log_dir=Path(tmp)) as server,
            httpx.Client(base_url=server.url, timeout=30) as http,
        ):
            case_ids = _set_up_over_http(http, WARMUP + mutations)
            agent = token(AGENT, Role.AGENT, name="Agent One")
            seconds = []
            # The timed requests go through the standard library's client: httpx spends ~1-2 ms of
            # its own per request here, which is the client's time, not the mutation's.
            host, port = server.url.removeprefix("http://").split(":")
            connection = HTTPConnection(host, int(port))
            headers = {"Authorization": f"Bearer {agent}", "Content-Type": "application/json"}
            try:
                for index, case_id in enumerate(case_ids):
                    started = time.perf_counter()
                    data = _post(connection, headers, ASSIGN_TO_ME, {"caseId": case_id})
                    elapsed = time.perf_counter() - started
                    if data["assignToMe"]["case"]["status"] != "OPEN":
                        raise RuntimeError(f"assignToMe left the case {data['assignToMe']['case']['status']}")
                    if index >= WARMUP:
                        seconds.append(elapsed)
            finally:
                connection.close()
    return Timing.of(seconds)


def _post(connection: HTTPConnection, headers: dict[str, str], query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """One request on the kept-alive connection: encode, send, read, decode, as a client would."""
    connection.request("POST", "/graphql", body=json.dumps({"query": query, "variables": variables}), headers=headers)
    response = connection.getresponse()
    body: dict[str, Any] = json.loads(response.read())
    if response.status != 200 or body.get("errors"):
        raise RuntimeError(f"{query.split()[1]} failed: {response.status} {body}")
    data: dict[str, Any] = body["data"]
    return data


async def _measure_in_process(mutations: int, database_url: str) -> tuple[Timing, Timing, Timing]:
    install_case_extensions()  # services are called directly here, without the app
    await migrate(database_url)
    async with TortoiseContext() as context:
        await context.init(config=tortoise_config(database_url))
        now = datetime.now(UTC)
        root = Actor(user_id="admin", roles=frozenset({Role.ADMIN}))
        await admin.create_assignment_group(actor=root, code=GROUP, name="Roads", now=now)
        await admin.create_case_type(
            actor=root,
            code=CASE_TYPE,
            name="Pothole",
            workflow=Workflow.PUBLIC_SERVICE,
            assignment_group_code=GROUP,
            auto_assign=False,
            description=None,
            now=now,
        )
        for priority, (response, resolution) in SLA_MINUTES.items():
            await set_sla_policy(
                actor=root,
                case_type_code=CASE_TYPE,
                priority=priority,
                response_minutes=response,
                resolution_minutes=resolution,
                now=now,
            )
        await admin.add_group_member(actor=root, group_code=GROUP, user_id=AGENT, is_manager=False, now=now)
        agent_claims = Claims(sub=AGENT, roles=frozenset({Role.AGENT}), name="Agent One")
        citizen_claims = Claims(sub=CONSTITUENT, roles=frozenset({Role.CONSTITUENT}), name="Alice")
        for claims in (agent_claims, citizen_claims):
            await provision(claims=claims, now=now)
        citizen = await build_actor(citizen_claims)
        publisher = NullPublisher()
        case_ids = []
        for i in range(WARMUP + mutations):
            created = await create_case(
                actor=citizen,
                new=NewCase(case_type_code=CASE_TYPE, title=f"Pothole {i}", impact=2, urgency=2),
                now=datetime.now(UTC),
                publisher=publisher,
            )
            case_ids.append(created.case.id)
        seconds = []
        for index, case_id in enumerate(case_ids):
            started = time.perf_counter()
            # As a request would: the actor (memberships) is built per request, then the service runs.
            agent = await build_actor(agent_claims)
            await perform(
                actor=agent,
                request=ActionRequest(action=CaseAction.ASSIGN_TO_ME, case_id=case_id),
                now=datetime.now(UTC),
                publisher=publisher,
            )
            if index >= WARMUP:
                seconds.append(time.perf_counter() - started)
        service = Timing.of(seconds)
        agent = await build_actor(agent_claims)
        cached = await _reauthorizations(agent, AccessBoard(), WARMUP + mutations)
        read = await _reauthorizations(agent, None, WARMUP + mutations)
    return service, cached, read


async def _reauthorizations(agent: Actor, board: AccessBoard | None, count: int) -> Timing:
    """``count`` operations' re-authorization on one socket (no board: memberships read each time)."""

    async def closer(code: int, reason: str) -> None:
        raise RuntimeError(f"the bench socket was closed: {code} {reason}")

    session = Session(token_actor=agent, valid_until=time.time() + 3600, closer=closer, board=board)
    seconds = []
    try:
        for index in range(count):
            started = time.perf_counter()
            if await session.current_actor() is None:
                raise RuntimeError("re-authorization refused the bench agent")
            if index >= WARMUP:
                seconds.append(time.perf_counter() - started)
    finally:
        session.close()
    return Timing.of(seconds)


def measure_in_process(mutations: int) -> tuple[Timing, Timing, Timing]:
    with (
        tempfile.TemporaryDirectory(prefix="casegraph-bench-assign.") as tmp,
        # The server's event loop (uvicorn picks uvloop): aiosqlite hops threads on every query.
        asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
    ):
        return runner.run(_measure_in_process(mutations, f"sqlite://{tmp}/assign.sqlite3"))


def run_assign(mutations: int) -> AssignReport:
    print(f"assignToMe on SQLite: {mutations} mutations over HTTP, then in-process …", flush=True)
    http = measure_http(mutations)
    in_process, cached, read = measure_in_process(mutations)
    return AssignReport(http=http, in_process=in_process, reauthorize_cached=cached, reauthorize_read=read)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mutations", type=int, default=200)
    args = parser.parse_args()
    print(report.assign_table(run_assign(args.mutations)))


if __name__ == "__main__":
    main()
