"""Fan-out benchmark: N subscribers watching one group's queue, one mutation, time to every one.

Starts a real server (SQLite in a temp dir, memory:// broadcast, one process) on loopback,
opens N graphql-transport-ws subscriptions to `queueEvents` as agents of one group, measures
the server's resident memory before and after they connect (memory per idle subscriber), then
commits one change and times its arrival at every subscriber (p50, p99, max).

    python bench/fanout.py --subscribers 100 1000 5000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

from casegraph.auth import issue_token
from casegraph.domain.enums import Role
from casegraph.settings import Settings

SECRET = "bench-secret-long-enough-for-hs256-keys!!"
SETTINGS = Settings(jwt_secret=SECRET)
QUERY = "subscription { queueEvents(groupCode: \"ROADS\") { sequence action case { number status } } }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def token(sub: str, *roles: Role) -> str:
    return issue_token(SETTINGS, sub=sub, roles=list(roles), name=sub)


async def gql(http: httpx.AsyncClient, tok: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}},
                               headers={"Authorization": f"Bearer {tok}"})
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


async def setup_world(http: httpx.AsyncClient, agents: int) -> None:
    admin = token("admin", Role.ADMIN)
    await gql(http, admin, 'mutation { createAssignmentGroup(input: {code: "ROADS", name: "Roads"}) { errors { code } } }')
    await gql(http, admin, 'mutation { createCaseType(input: {code: "POTHOLE", name: "Pothole", workflow: PUBLIC_SERVICE, assignmentGroupCode: "ROADS"}) { errors { code } } }')
    for i in range(agents):
        await gql(http, admin, 'mutation($u: ID!) { addGroupMember(input: {groupCode: "ROADS", userId: $u}) { errors { code } } }',
                  {"u": f"agent{i}"})


async def subscriber(url: str, tok: str, ready: asyncio.Event, arrived: list[float], opened: list[int]) -> None:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"], max_queue=4, open_timeout=120, ping_interval=None) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {tok}"}}))
        await ws.recv()
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": QUERY}}))
        opened.append(1)
        await ready.wait()
        while True:
            message = json.loads(await ws.recv())
            if message.get("type") == "next":
                arrived.append(time.perf_counter())
                return


async def run(n: int, agents: int) -> dict[str, float]:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CASEGRAPH_DATABASE_URL": f"sqlite://{tmp}/bench.sqlite3",
               "CASEGRAPH_JWT_SECRET": SECRET, "CASEGRAPH_BROADCAST_URL": "memory://"}
        server = subprocess.Popen([sys.executable, "-m", "casegraph.cli", "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
                for _ in range(200):
                    try:
                        if (await http.get("/healthz")).status_code == 200:
                            break
                    except httpx.HTTPError:
                        await asyncio.sleep(0.1)
                await setup_world(http, agents)
                tokens = [token(f"agent{i % agents}", Role.AGENT) for i in range(n)]
                await asyncio.sleep(0.5)
                rss_before = rss_kib(server.pid)
                ready = asyncio.Event()
                arrived: list[float] = []
                opened: list[int] = []
                url = f"ws://127.0.0.1:{port}/graphql"
                tasks = []
                for start in range(0, n, 200):  # connect in waves so the handshake backlog holds
                    tasks += [asyncio.create_task(subscriber(url, t, ready, arrived, opened)) for t in tokens[start:start + 200]]
                    while len(opened) < min(n, start + 200):
                        await asyncio.sleep(0.02)
                await asyncio.sleep(1.0)
                rss_after = rss_kib(server.pid)
                ready.set()
                constituent = token("alice", Role.CONSTITUENT)
                sent = time.perf_counter()
                await gql(http, constituent, 'mutation { createCase(input: {caseTypeCode: "POTHOLE", title: "Bench"}) { case { id } } }')
                await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
                latencies = sorted((t - sent) * 1000 for t in arrived)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    return {
        "subscribers": n,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)],
        "max_ms": latencies[-1],
        "kib_per_sub": (rss_after - rss_before) / n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--agents", type=int, default=50, help="distinct agent users among the subscribers")
    args = parser.parse_args()
    print(f"fan-out: queueEvents of one group, one mutation; machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"{'subscribers':>11} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} {'KiB/idle sub':>13}")
    for n in args.subscribers:
        r = asyncio.run(run(n, args.agents))
        print(f"{r['subscribers']:>11} {r['p50_ms']:>9.1f} {r['p99_ms']:>9.1f} {r['max_ms']:>9.1f} {r['kib_per_sub']:>13.1f}")


if __name__ == "__main__":
    main()
