"""Soak: does a server's memory stay put while subscriptions deliver for minutes?

Starts ``casegraph serve --workers 2`` as deployed (``bench.casegraph_server``: production
settings; SQLite, memory:// broadcast — each worker's hub reads the other's events from the log),
opens ``subscribers`` graphql-transport-ws subscriptions to one group's ``queueEvents`` and one
case's ``caseEvents``, and updates that case ``rate`` times a second for ``seconds``. After a
warm-up (a fifth of the run) it samples each worker's resident set every few seconds and
reports, per worker, the growth from the first sample to the last and its slope. A server that
keeps something per delivery grows without a plateau (issue 14: ~13 MiB a minute per worker at
22 mutations/s and 40 subscriptions); one that does not stays within ``LIMIT_MIB``.

    python -m bench.run --only soak                      # the default minute
    python -m bench.run --only soak --soak-seconds 600   # the ten-minute soak
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bench.casegraph_server import production_env, token
from bench.processes import running, start_process
from bench.procstat import process_tree
from bench.report import table
from bench.services import free_port
from casegraph.domain.enums import Role

LIMIT_MIB: Final = 8.0
SAMPLE_EVERY: Final = 5.0
WORKERS: Final = 2
CASE_QUERY: Final = (
    "subscription($c: ID) { caseEvents(caseId: $c) { id sequence action case { id number title status } } }"
)
QUEUE_QUERY: Final = (
    'subscription { queueEvents(groupCode: "ROADS") { id sequence action case { id number title status priority } } }'
)
AGENTS: Final = ("agent0", "agent1", "agent2", "agent3")


@dataclass
class SoakReport:
    seconds: float
    subscribers: int
    mutations: int
    frames_received: int
    bytes_received: int
    # Per worker: resident set (MiB) at each sample after the warm-up.
    samples_mib: dict[int, list[float]] = field(default_factory=dict)

    def growth_mib(self) -> dict[int, float]:
        return {pid: values[-1] - values[0] for pid, values in self.samples_mib.items() if values}

    def slope_mib_per_minute(self) -> dict[int, float]:
        return {pid: _slope(values) * 60 / SAMPLE_EVERY for pid, values in self.samples_mib.items()}

    @property
    def passed(self) -> bool:
        return bool(self.samples_mib) and all(growth <= LIMIT_MIB for growth in self.growth_mib().values())

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "subscribers": self.subscribers,
            "mutations": self.mutations,
            "frames_received": self.frames_received,
            "bytes_received": self.bytes_received,
            "samples_mib": {str(pid): values for pid, values in self.samples_mib.items()},
            "growth_mib": {str(pid): value for pid, value in self.growth_mib().items()},
            "slope_mib_per_minute": {str(pid): value for pid, value in self.slope_mib_per_minute().items()},
            "limit_mib": LIMIT_MIB,
            "passed": self.passed,
        }


def _slope(values: Sequence[float]) -> float:
    """Least-squares change per sample."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    num = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
    return num / sum((x - mean_x) ** 2 for x in range(n))


def rss_mib(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


async def _gql(http: httpx.AsyncClient, tok: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers={"Authorization": f"Bearer {tok}"}
    )
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


async def _set_up(http: httpx.AsyncClient) -> str:
    """A group with agents, a case type routed to it, and a case of a constituent; its id."""
    admin = token("admin", Role.ADMIN)
    await _gql(http, admin, "{ me { id } }")
    await _gql(
        http, admin, 'mutation { createAssignmentGroup(input: {code: "ROADS", name: "Roads"}) { errors { code } } }'
    )
    await _gql(
        http,
        admin,
        'mutation { createCaseType(input: {code: "POTHOLE", name: "Pothole", '
        'workflow: PUBLIC_SERVICE, assignmentGroupCode: "ROADS"}) { errors { code } } }',
    )
    for agent in AGENTS:
        await _gql(http, token(agent, Role.AGENT), "{ me { id } }")
        await _gql(
            http,
            admin,
            'mutation($u: ID!) { addGroupMember(input: {groupCode: "ROADS", userId: $u}) { errors { code } } }',
            {"u": agent},
        )
    data = await _gql(
        http,
        token("alice", Role.CONSTITUENT),
        'mutation { createCase(input: {caseTypeCode: "POTHOLE", title: "Soak", description: "Soak", '
        "impact: 2, urgency: 2}) { case { id } errors { code } } }",
    )
    return str(data["createCase"]["case"]["id"])


class Subscriber:
    def __init__(self) -> None:
        self.frames = 0
        self.bytes = 0

    async def run(self, url: str, tok: str, query: str, variables: dict[str, Any], ready: asyncio.Event) -> None:
        async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")], max_size=2**22) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {tok}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}})
            )
            ready.set()
            await self._read(ws)

    async def _read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            message = json.loads(raw)
            if message.get("type") == "ping":
                await ws.send(json.dumps({"type": "pong"}))
            elif message.get("type") == "next":
                self.frames += 1
                self.bytes += len(raw)
            elif message.get("type") in ("error", "complete"):
                raise RuntimeError(f"subscription ended: {message}")


async def _soak(port: int, *, seconds: float, subscribers: int, rate: float, workers: list[int]) -> SoakReport:
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        case_id = await _set_up(http)
        readers = [Subscriber() for _ in range(subscribers)]
        tasks: list[asyncio.Task[None]] = []
        for index, reader in enumerate(readers):
            ready = asyncio.Event()
            query, variables = (QUEUE_QUERY, {}) if index % 2 else (CASE_QUERY, {"c": case_id})
            tok = token(AGENTS[index % len(AGENTS)], Role.AGENT)
            tasks.append(
                asyncio.create_task(reader.run(f"ws://127.0.0.1:{port}/graphql", tok, query, variables, ready))
            )
            await asyncio.wait_for(ready.wait(), 30)
        report = SoakReport(seconds=seconds, subscribers=subscribers, mutations=0, frames_received=0, bytes_received=0)
        alice = token("alice", Role.CONSTITUENT)
        update = "mutation($i: UpdateCaseInput!) { updateCase(input: $i) { errors { code } } }"
        started = time.monotonic()
        warm_up_until = started + seconds / 5
        next_sample = warm_up_until
        try:
            while (now := time.monotonic()) < started + seconds:
                if now >= next_sample:
                    for pid in workers:
                        value = rss_mib(pid)
                        if value is not None:
                            report.samples_mib.setdefault(pid, []).append(round(value, 2))
                    next_sample += SAMPLE_EVERY
                await _gql(
                    http, alice, update, {"i": {"caseId": case_id, "description": f"Still there ({report.mutations})"}}
                )
                report.mutations += 1
                await asyncio.sleep(max(0.0, started + report.mutations / rate - time.monotonic()))
            for pid in workers:
                value = rss_mib(pid)
                if value is not None:
                    report.samples_mib.setdefault(pid, []).append(round(value, 2))
        finally:
            for task in tasks:
                task.cancel()
            failures = [
                r
                for r in await asyncio.gather(*tasks, return_exceptions=True)
                if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)
            ]
        if failures:
            raise RuntimeError(f"{len(failures)} subscribers failed: {failures[0]!r}")
        report.frames_received = sum(r.frames for r in readers)
        report.bytes_received = sum(r.bytes for r in readers)
        return report


def soak_table(report: SoakReport) -> str:
    growth, slope = report.growth_mib(), report.slope_mib_per_minute()
    title = (
        f"Soak: {report.subscribers} subscriptions, {report.mutations:,} mutations in {report.seconds:g} s, "
        f"{report.frames_received:,} frames ({report.bytes_received / 2**20:,.1f} MiB) delivered; "
        f"RSS per server process after a {report.seconds / 5:g} s warm-up "
        f"({'PASS' if report.passed else 'FAIL'}: growth within {LIMIT_MIB:g} MiB)"
    )
    rows = [
        [f"process {pid}", f"{values[0]:,.1f}", f"{values[-1]:,.1f}", f"{growth[pid]:+,.1f}", f"{slope[pid]:+,.2f}"]
        for pid, values in report.samples_mib.items()
        if values
    ]
    return title + "\n" + table(["", "first (MiB)", "last (MiB)", "growth (MiB)", "slope (MiB/min)"], rows)


def run_soak(*, seconds: float, subscribers: int = 40, rate: float = 20.0) -> SoakReport:
    """The soak against a fresh server; raises if the server or a subscriber fails."""
    with tempfile.TemporaryDirectory(prefix="casegraph-bench-soak.") as tmp:
        workdir = Path(tmp)
        port = free_port()
        env = production_env(database_url=f"sqlite://{workdir / 'soak.sqlite3'}", broadcast_url="memory://")
        server = start_process(
            "casegraph",
            [
                sys.executable,
                "-m",
                "casegraph.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(WORKERS),
            ],
            env=env,
            cwd=workdir,
            url=f"http://127.0.0.1:{port}",
            log_path=workdir / "casegraph.log",
        )

        def ready(http: httpx.Client) -> bool:
            return http.get(f"{server.url}/readyz").status_code == 200

        with running(server, ready):
            deadline = time.monotonic() + 30
            workers = [pid for pid in process_tree(server.pid) if pid != server.pid]
            while len(workers) < WORKERS and time.monotonic() < deadline:
                time.sleep(0.2)
                workers = [pid for pid in process_tree(server.pid) if pid != server.pid]
            return asyncio.run(_soak(port, seconds=seconds, subscribers=subscribers, rate=rate, workers=workers))
