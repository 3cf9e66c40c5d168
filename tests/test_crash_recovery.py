"""Crash recovery (issue 5): ``casegraph serve`` killed with SIGKILL in the middle of a burst of
mutations, then restarted on the same database.

Sixteen clients, each on its own connection, file cases, comment on them and move them through
intake and review, every mutation with an idempotency key; the server's process group is killed
once some hundreds of mutations have been acknowledged, with requests in flight. After the
restart:

- every acknowledged mutation is there: its event, with the acknowledged case and version;
- nothing is half-applied: each case's events are exactly versions 1..version, in sequence
  order, and the last one names the case's stage and status; every event that says it carried a
  comment or work note has exactly one, and every comment and work note has its event; every
  stored idempotency response names an event that exists;
- the counters are ahead of what the log used, so new cases and events do not collide;
- the requests that were in flight, sent again with their keys, are answered (their claims left
  by the dead server are taken over once abandoned, not refused for ever), and applied once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from tortoise.context import TortoiseContext

from casegraph.db import tortoise_config
from casegraph.domain.enums import Role
from casegraph.services.idempotency import LEASE
from tests.conftest import forget_backend_caches
from tests.live.support import (
    START_TIMEOUT,
    GraphQLHttp,
    LiveWorld,
    ServerProcess,
    _server_env,
    create_case_type,
    create_group,
    free_port,
    mint_token,
    postgres_database,
    server_env,
    wait_for_status,
)

pytestmark = pytest.mark.slow

CONSTITUENTS: Final = ("alice", "bob", "carol", "dave", "erin", "frank", "gina", "hugo")
AGENTS: Final = ("dana", "eli", "ivan", "judy")
# Eight constituents and eight agent connections (two per agent): sixteen clients at once.
AGENT_CLIENTS: Final = tuple(f"{agent}#{n}" for agent in AGENTS for n in (1, 2))
KILL_AFTER_ACKS: Final = 300
# The workflow an agent pushes a case along; anything else it does is a comment or a work note.
NEXT_ACTION: Final = {
    ("INTAKE", "NEW"): "assignToMe",
    ("INTAKE", "OPEN"): "beginReview",
    ("REVIEW", "OPEN"): "startWork",
}
PAYLOAD: Final = (
    "case { id number version stage status } event { sequence version toStage toStatus } errors { code field message }"
)


def mutation(field_name: str) -> str:
    type_name = field_name[0].upper() + field_name[1:] + "Input"
    return f"mutation M($input: {type_name}!) {{ {field_name}(input: $input) {{ {PAYLOAD} }} }}"


# --- the server, killable as a process group -------------------------------------------------------


def start_server(name: str, env: dict[str, str], workdir: Path) -> ServerProcess:
    """``casegraph serve`` in a session of its own (so one signal reaches every process it starts)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = workdir / f"{name}-{port}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "casegraph.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=_server_env(env),
        cwd=workdir,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = ServerProcess(name=name, port=port, process=process, log_path=log_path, log_file=log_file)
    try:
        wait_for_status(server, "/readyz", 200, timeout=START_TIMEOUT)
    except BaseException:
        kill(server)
        raise
    return server


def kill(server: ServerProcess) -> None:
    """SIGKILL to the whole process group: no shutdown code runs, as in a power cut or an OOM kill."""
    if server.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):  # it may have died by itself just now
            os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(10)
    server.log_file.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgres":
        with postgres_database() as url:
            yield url
    else:
        yield f"sqlite://{tmp_path / 'crash.sqlite3'}"


# --- the burst -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One mutation as sent; sent again unchanged (same idempotency key) after the restart."""

    who: str
    field: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Ack:
    """What the server acknowledged for an attempt."""

    attempt: Attempt
    case_id: str
    version: int
    sequence: int
    state: tuple[str, str]


@dataclass
class Burst:
    base_url: str
    tokens: dict[str, str]
    acks: list[Ack] = field(default_factory=list)
    # Sent and not answered (yet); what is left when the server dies was in flight.
    pending: dict[int, Attempt] = field(default_factory=dict)
    refusals: Counter[str] = field(default_factory=Counter)
    created: list[str] = field(default_factory=list)
    states: dict[str, tuple[int, tuple[str, str]]] = field(default_factory=dict)
    stopped: bool = False
    _tickets: Iterator[int] = field(default_factory=itertools.count)

    async def send(self, http: httpx.AsyncClient, attempt: Attempt) -> dict[str, Any] | None:
        """The payload, or None when the server went away before answering."""
        ticket = next(self._tickets)
        self.pending[ticket] = attempt
        try:
            response = await http.post(
                "/graphql",
                json={"query": mutation(attempt.field), "variables": {"input": attempt.input}},
                headers={"Authorization": f"Bearer {self.tokens[attempt.who]}"},
            )
            body = response.json()
        except (httpx.TransportError, ValueError):
            self.stopped = True
            return None
        del self.pending[ticket]
        assert response.status_code == 200 and body.get("data"), (
            f"{attempt}: {response.status_code} {response.text[:500]}"
        )
        payload: dict[str, Any] = body["data"][attempt.field]
        if payload["errors"]:
            self.refusals[payload["errors"][0]["code"]] += 1
        else:
            self.record(attempt, payload)
        return payload

    def record(self, attempt: Attempt, payload: dict[str, Any]) -> Ack:
        case, event = payload["case"], payload["event"]
        ack = Ack(
            attempt,
            str(case["id"]),
            int(event["version"]),
            int(event["sequence"]),
            (event["toStage"], event["toStatus"]),
        )
        assert ack.version == case["version"] and ack.state == (case["stage"], case["status"]), payload
        self.acks.append(ack)
        known = self.states.get(ack.case_id)
        if known is None or known[0] < ack.version:
            self.states[ack.case_id] = (ack.version, ack.state)
        return ack

    async def constituent(self, who: str) -> None:
        """Files a case, then comments on their cases twice, and again."""
        mine: list[str] = []
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30.0) as http:
            for n in itertools.count(1):
                if self.stopped:
                    return
                key = f"{who}-{n}"
                if not mine or n % 3 == 1:
                    attempt = Attempt(
                        who,
                        "createCase",
                        {
                            "caseTypeCode": "POTHOLE",
                            "title": f"Pothole {key}",
                            "description": "Seen on the way to work.",
                            "impact": 2,
                            "urgency": 2,
                            "idempotencyKey": key,
                        },
                    )
                    payload = await self.send(http, attempt)
                    if payload is not None and not payload["errors"]:
                        mine.append(str(payload["case"]["id"]))
                        self.created.append(mine[-1])
                else:
                    case_id = mine[n % len(mine)]
                    await self.send(
                        http,
                        Attempt(
                            who,
                            "updateCase",
                            {
                                "caseId": case_id,
                                "comment": f"Any news? ({key})",
                                "idempotencyKey": key,
                            },
                        ),
                    )

    async def agent(self, client: str) -> None:
        """Takes new cases and moves them on (intake, review, work), with notes and comments between."""
        who = client.partition("#")[0]
        rng = random.Random(client)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30.0) as http:
            for n in itertools.count(1):
                if self.stopped:
                    return
                if not self.created:
                    await asyncio.sleep(0.01)
                    continue
                key = f"{client}-{n}"
                case_id = rng.choice(self.created[-24:])
                action = NEXT_ACTION.get(self.states.get(case_id, (0, ("INTAKE", "NEW")))[1])
                if action is not None and n % 3 != 0:
                    attempt = Attempt(who, action, {"caseId": case_id, "idempotencyKey": key})
                elif n % 2:
                    attempt = Attempt(
                        who, "updateCase", {"caseId": case_id, "workNote": f"Checked ({key})", "idempotencyKey": key}
                    )
                else:
                    attempt = Attempt(
                        who, "updateCase", {"caseId": case_id, "comment": f"On it ({key})", "idempotencyKey": key}
                    )
                await self.send(http, attempt)

    async def kill_after(self, acks: int, server: ServerProcess) -> int:
        """SIGKILL once ``acks`` mutations are acknowledged; returns how many were in flight then."""
        while len(self.acks) < acks:
            assert server.process.poll() is None, server.log_tail()
            await asyncio.sleep(0.002)
        in_flight = len(self.pending)
        os.killpg(server.process.pid, signal.SIGKILL)
        self.stopped = True
        return in_flight


# --- what the database holds -----------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    cases: dict[str, dict[str, Any]]
    events: dict[int, dict[str, Any]]
    comments: list[dict[str, Any]]
    work_notes: list[dict[str, Any]]
    counters: dict[str, int]
    idempotency: list[dict[str, Any]]


async def snapshot(database_url: str) -> Snapshot:
    forget_backend_caches()
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(database_url))
        db = ctx.db()
        cases = await db.execute_query_dict("SELECT id, number, title, version, stage, status FROM cases")
        events = await db.execute_query_dict(
            "SELECT sequence, case_id, version, to_stage, to_status, summary FROM case_events"
        )
        comments = await db.execute_query_dict("SELECT case_id, body, event_sequence FROM comments")
        notes = await db.execute_query_dict("SELECT case_id, body, event_sequence FROM work_notes")
        counters = await db.execute_query_dict("SELECT name, value FROM counters")
        records = await db.execute_query_dict("SELECT user_id, key, response FROM idempotency_records")
    forget_backend_caches()

    def decoded(value: Any) -> Any:
        return json.loads(value) if isinstance(value, (str, bytes)) else value

    return Snapshot(
        cases={str(row["id"]): dict(row) for row in cases},
        events={
            int(row["sequence"]): {**row, "case_id": str(row["case_id"]), "summary": decoded(row["summary"])}
            for row in events
        },
        comments=[{**row, "case_id": str(row["case_id"])} for row in comments],
        work_notes=[{**row, "case_id": str(row["case_id"])} for row in notes],
        counters={str(row["name"]): int(row["value"]) for row in counters},
        idempotency=[{**row, "response": decoded(row["response"])} for row in records],
    )


def assert_consistent(db: Snapshot) -> None:
    """No half-applied change anywhere, and counters ahead of what was used."""
    by_case: dict[str, list[dict[str, Any]]] = {case_id: [] for case_id in db.cases}
    for sequence in sorted(db.events):
        by_case[db.events[sequence]["case_id"]].append(db.events[sequence])
    for case_id, case in db.cases.items():
        events = by_case[case_id]
        # Versions 1..version, one event each, and sequence order is version order.
        assert [e["version"] for e in events] == list(range(1, case["version"] + 1)), (case, events)
        last = events[-1]
        assert (last["to_stage"], last["to_status"]) == (case["stage"], case["status"]), (case, last)
    for rows, flag in ((db.comments, "comment"), (db.work_notes, "workNote")):
        attached = Counter(row["event_sequence"] for row in rows)
        for row in rows:
            event = db.events.get(row["event_sequence"])
            assert event is not None and event["case_id"] == row["case_id"], (flag, row, event)
        for sequence, event in db.events.items():
            if (event["summary"] or {}).get(flag):
                assert attached[sequence] == 1, (flag, event, attached[sequence])
    for record in db.idempotency:
        response = record["response"]
        if response and "event" in response:
            # Stored in the transaction of the change: the change is there too.
            event = db.events.get(int(response["event"]))
            assert event is not None and event["case_id"] == str(response["case"]["id"]), record
    assert db.counters["event_sequence"] >= max(db.events), db.counters
    assert db.counters["case_number"] >= max(int(case["number"][2:]) for case in db.cases.values()), db.counters


def assert_acknowledged(db: Snapshot, acks: list[Ack]) -> None:
    for ack in acks:
        event = db.events.get(ack.sequence)
        assert event is not None, f"acknowledged event {ack.sequence} is gone: {ack}"
        assert (event["case_id"], event["version"]) == (ack.case_id, ack.version), (ack, event)
        assert (event["to_stage"], event["to_status"]) == ack.state, (ack, event)
        assert db.cases[ack.case_id]["version"] >= ack.version, (ack, db.cases[ack.case_id])
        text = ack.attempt.input.get("comment") or ack.attempt.input.get("workNote")
        if text is not None:
            rows = db.comments if "comment" in ack.attempt.input else db.work_notes
            assert [row["event_sequence"] for row in rows if row["body"] == text] == [ack.sequence], (ack, text)


def assert_applied_at_most_once(db: Snapshot) -> None:
    """Every title, comment and note the clients sent is unique: any repeat is a double apply."""
    for texts in (
        [c["title"] for c in db.cases.values()],
        [c["body"] for c in db.comments],
        [n["body"] for n in db.work_notes],
    ):
        repeated = [text for text, count in Counter(texts).items() if count > 1]
        assert not repeated, repeated


# --- the test --------------------------------------------------------------------------------------


async def set_up(base_url: str) -> dict[str, str]:
    """ROADS with four agents, a public-service case type; a token for everyone who takes part."""
    world = LiveWorld()
    tokens = {who: mint_token(who, Role.CONSTITUENT) for who in CONSTITUENTS}
    tokens |= {who: mint_token(who, Role.AGENT) for who in AGENTS}
    async with GraphQLHttp(base_url) as gql:
        for who in AGENTS:
            await gql.data("query { me { id } }", token=tokens[who])  # provisioned with their role
        await create_group(gql, world, "ROADS", list(AGENTS))
        await create_case_type(gql, world, "POTHOLE", "PUBLIC_SERVICE", "ROADS")
    return tokens


async def test_a_server_killed_mid_burst_restarts_with_every_acknowledged_change_and_no_half_applied_one(
    database_url: str, tmp_path: Path
) -> None:
    # given: a server with a world, and sixteen clients writing to it
    env = server_env(database_url=database_url, sla_interval="0")
    first = start_server("doomed", env, tmp_path)
    try:
        tokens = await set_up(first.http_url)
        burst = Burst(first.http_url, tokens)
        clients = [asyncio.create_task(burst.constituent(who)) for who in CONSTITUENTS]
        clients += [asyncio.create_task(burst.agent(client)) for client in AGENT_CLIENTS]
        # when: SIGKILL mid-burst
        in_flight_at_kill = await burst.kill_after(KILL_AFTER_ACKS, first)
        await asyncio.wait_for(asyncio.gather(*clients), timeout=60)
    finally:
        kill(first)
    assert first.process.returncode == -signal.SIGKILL
    assert in_flight_at_kill > 0 and burst.pending, "the kill must catch requests in flight"
    assert {a.attempt.field for a in burst.acks} >= {"createCase", "updateCase", "assignToMe", "beginReview"}, Counter(
        a.attempt.field for a in burst.acks
    )

    # then: restarted on the same database, it has every acknowledged change and no half-applied one
    second = start_server("restarted", env, tmp_path)
    try:
        after_crash = await snapshot(database_url)
        assert_consistent(after_crash)
        assert_acknowledged(after_crash, burst.acks)
        assert_applied_at_most_once(after_crash)
        orphans = [r for r in after_crash.idempotency if r["response"] is None]

        # and: what was in flight, sent again with its key, is answered and applied once
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=second.http_url, timeout=LEASE.total_seconds() + 30) as http:
            retried = await asyncio.gather(*(burst.send(http, attempt) for attempt in list(burst.pending.values())))
        waited = time.monotonic() - started
        assert all(payload is not None for payload in retried), second.log_tail()
        codes = Counter(payload["errors"][0]["code"] if payload and payload["errors"] else "ok" for payload in retried)
        # A repeat is never refused for want of an answer from the dead request (VERSION_CONFLICT).
        assert set(codes) <= {"ok", "TRANSITION_NOT_ALLOWED", "PERMISSION_DENIED"}, (codes, len(orphans))
        assert waited < LEASE.total_seconds() + 20, (waited, codes, len(orphans))

        # and: new cases and events do not collide with those from before the crash
        alice = tokens["alice"]
        async with GraphQLHttp(second.http_url) as gql:
            filed = await gql.mutate(
                "createCase",
                {
                    "caseTypeCode": "POTHOLE",
                    "title": "After the crash",
                    "description": "Still there.",
                    "impact": 2,
                    "urgency": 2,
                },
                "case { id number } event { sequence }",
                token=alice,
            )
            commented = await gql.mutate(
                "updateCase",
                {"caseId": filed["case"]["id"], "comment": "After the crash too"},
                "event { sequence }",
                token=alice,
            )
        numbers = {case["number"] for case in after_crash.cases.values()}
        assert filed["case"]["number"] not in numbers
        assert int(filed["case"]["number"][2:]) > max(int(number[2:]) for number in numbers)
        assert min(filed["event"]["sequence"], commented["event"]["sequence"]) > max(after_crash.events)

        final = await snapshot(database_url)
        assert_consistent(final)
        assert_acknowledged(final, burst.acks)
        assert_applied_at_most_once(final)
        assert not [r for r in final.idempotency if r["response"] is None], "claims left unanswered after the retries"
    finally:
        second.stop()
