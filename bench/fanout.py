"""Fan-out benchmark: N subscribers of one group's queue, one mutation, time to every one.

Starts a real server (``casegraph serve``: SQLite in a temporary directory, memory:// broadcast,
one process) on loopback, opens N graphql-transport-ws subscriptions to ``queueEvents`` as
agents of one group from a few lean client processes, and measures:

- memory per idle subscription: the server's resident set before the subscriptions and once
  they are all registered and idle, divided by N;
- latency: one constituent files a case of the group; the time from sending that mutation
  (an upper bound of its commit) to each subscriber's receipt of the event: p50, p99, max;
- server CPU per delivery: the server's CPU time (all threads, from ``/proc``) from the
  mutation until the last receipt, divided by N.

    python bench/fanout.py --subscribers 1000 10000
    python bench/fanout.py --subscribers 10000 --per-connection 10 --json fanout.json
    git archive <commit> | tar -x -C /tmp/before && python bench/fanout.py --source /tmp/before

The clients are raw asyncio protocols (a WebSocket handshake, masked text frames out, frame
headers in): several processes of them, so the client side does not dominate a 2-core machine.
They offer per-message deflate as browsers do, so a server that accepts it pays for it here too.
Clocks: ``time.perf_counter`` is CLOCK_MONOTONIC on Linux, the same clock in every process.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ in ("__main__", "__mp_main__") and not __package__:
    # Run as a script: its directory (bench/) must not shadow the standard library (bench/queue.py).
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import platform
import resource
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from typing import Any, Final

import httpx

SECRET: Final = "bench-secret-long-enough-for-hs256-keys!!"
GROUP: Final = "ROADS"
QUERY: Final = (
    'subscription Queue { queueEvents(groupCode: "ROADS") '
    "{ id sequence action toStatus case { id number title status priority updatedAt } } }"
)
WAVE: Final = 250  # connections opened at once: the listen backlog holds them
HANDSHAKE_TIMEOUT: Final = 900.0
DELIVERY_TIMEOUT: Final = 120.0


# --------------------------------------------------------------------------------------------
# A lean graphql-transport-ws client: one asyncio protocol per connection, no task per socket.


def _frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """A masked client frame (RFC 6455 section 5.2): text by default."""
    mask = os.urandom(4)
    length = len(payload)
    first = 0x80 | opcode
    if length < 126:
        header = bytes([first, 0x80 | length])
    elif length < 1 << 16:
        header = bytes([first, 0x80 | 126]) + length.to_bytes(2, "big")
    else:
        header = bytes([first, 0x80 | 127]) + length.to_bytes(8, "big")
    repeated = (mask * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(length, "big")
    return header + mask + masked


class LeanSubscriber(asyncio.Protocol):
    """Handshake, connection_init, ``count`` subscribes; records when each first ``next`` lands."""

    def __init__(
        self, host: str, port: int, token: str, count: int, on_ready: Callable[[], None], arrivals: list[float]
    ) -> None:
        self.request = (
            f"GET /graphql HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: graphql-transport-ws\r\n"
            # What browsers offer: the server decides whether sockets carry a compressor each.
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
        ).encode()
        self.inflate: Any = None
        self.token = token
        self.count = count
        self.on_ready = on_ready
        self.arrivals = arrivals
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.closed = asyncio.get_running_loop().create_future()
        self.received = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(exc)

    def send(self, message: dict[str, Any]) -> None:
        assert self.transport is not None
        self.transport.write(_frame(json.dumps(message).encode()))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[:12])
            if b" 101" not in status:
                raise ConnectionError(f"handshake refused: {bytes(self.buffer[:end])!r}")
            if b"permessage-deflate" in bytes(self.buffer[:end]).lower():
                self.inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            del self.buffer[: end + 4]
            self.upgraded = True
            self.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {self.token}"}})
        while len(self.buffer) >= 2:
            opcode = self.buffer[0] & 0x0F
            length = self.buffer[1] & 0x7F
            offset = 2
            if length == 126:
                if len(self.buffer) < 4:
                    return
                length, offset = int.from_bytes(self.buffer[2:4], "big"), 4
            elif length == 127:
                if len(self.buffer) < 10:
                    return
                length, offset = int.from_bytes(self.buffer[2:10], "big"), 10
            if len(self.buffer) < offset + length:
                return
            payload = bytes(self.buffer[offset : offset + length])
            compressed = bool(self.buffer[0] & 0x40)
            del self.buffer[: offset + length]
            if compressed:
                payload = self.inflate.decompress(payload + b"\x00\x00\xff\xff")
            if opcode == 0x1:
                self._message(payload)
            elif opcode == 0x9:  # the server's keepalive ping: answer, or it drops the connection
                assert self.transport is not None
                self.transport.write(_frame(payload, opcode=0xA))
            elif opcode == 0x8:
                assert self.transport is not None
                self.transport.close()

    def _message(self, payload: bytes) -> None:
        if b'"next"' in payload[:48]:
            self.arrivals.append(time.perf_counter())
            self.received += 1
            return
        message = json.loads(payload)
        kind = message.get("type")
        if kind == "connection_ack":
            for number in range(self.count):
                self.send({"id": str(number + 1), "type": "subscribe", "payload": {"query": QUERY}})
            self.on_ready()
        elif kind == "ping":
            self.send({"type": "pong"})
        elif kind in ("error", "complete"):
            raise ConnectionError(f"subscription refused: {message}")


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def client_process(port: int, jobs: list[tuple[str, int]], pipe: Connection) -> None:
    """Open every (token, subscriptions) connection, report, wait for "go", report arrivals."""
    _raise_nofile()
    asyncio.run(_client_main(port, jobs, pipe))


async def _client_main(port: int, jobs: list[tuple[str, int]], pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    arrivals: list[float] = []
    ready = 0
    expected = sum(count for _, count in jobs)
    protocols: list[LeanSubscriber] = []

    def one_ready() -> None:
        nonlocal ready
        ready += 1

    def subscriber(tok: str, count: int) -> Callable[[], LeanSubscriber]:
        return lambda: LeanSubscriber("127.0.0.1", port, tok, count, one_ready, arrivals)

    for start in range(0, len(jobs), WAVE):
        wave = jobs[start : start + WAVE]
        made = await asyncio.gather(
            *(loop.create_connection(subscriber(tok, count), "127.0.0.1", port) for tok, count in wave)
        )
        protocols += [protocol for _, protocol in made]
        deadline = time.monotonic() + HANDSHAKE_TIMEOUT
        while ready < len(protocols):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{ready} of {len(protocols)} connections acknowledged")
            await asyncio.sleep(0.01)
    pipe.send(("connected", len(protocols)))
    await loop.run_in_executor(None, pipe.recv)  # "go"
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while len(arrivals) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    pipe.send(("arrivals", arrivals))
    await loop.run_in_executor(None, pipe.recv)  # "close"
    for protocol in protocols:
        if protocol.transport is not None:
            protocol.transport.close()


# --------------------------------------------------------------------------------------------
# The server under test


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """CPU time of every thread of the process, from the scheduler's nanosecond counters."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / 1e9


def token(sub: str, role: str) -> str:
    from casegraph.auth import issue_token
    from casegraph.domain.enums import Role
    from casegraph.settings import Settings

    return issue_token(Settings(jwt_secret=SECRET), sub=sub, roles=[Role(role)], name=sub)


async def gql(http: httpx.AsyncClient, tok: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers={"Authorization": f"Bearer {tok}"}
    )
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


async def set_up_world(http: httpx.AsyncClient, agents: int) -> None:
    admin = token("admin", "ADMIN")
    await gql(
        http, admin, 'mutation { createAssignmentGroup(input: {code: "ROADS", name: "Roads"}) { errors { code } } }'
    )
    await gql(
        http,
        admin,
        'mutation { createCaseType(input: {code: "POTHOLE", name: "Pothole", '
        'workflow: PUBLIC_SERVICE, assignmentGroupCode: "ROADS"}) { errors { code } } }',
    )
    for i in range(agents):
        await gql(http, token(f"agent{i}", "AGENT"), "{ me { id } }")  # provisioned with the AGENT role
        await gql(
            http,
            admin,
            'mutation($u: ID!) { addGroupMember(input: {groupCode: "ROADS", userId: $u}) { errors { code } } }',
            {"u": f"agent{i}"},
        )


async def active_subscriptions(http: httpx.AsyncClient) -> float:
    text = (await http.get("/metrics")).text
    for line in text.splitlines():
        if line.startswith("casegraph_active_subscriptions"):
            return float(line.split()[-1])
    return 0.0


async def file_case(http: httpx.AsyncClient, title: str) -> None:
    await gql(
        http,
        token("alice", "CONSTITUENT"),
        'mutation($t: String!) { createCase(input: {caseTypeCode: "POTHOLE", title: $t}) { case { id } } }',
        {"t": title},
    )


@dataclass
class Result:
    subscribers: int
    per_connection: int
    connections: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    received: int
    kib_per_idle_subscription: float
    server_cpu_us_per_delivery: float
    mutation_ms: float
    rss_before_kib: int
    rss_idle_kib: int


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * fraction + 0.5) - 1))]


async def run(n: int, *, per_connection: int, agents: int, clients: int, source: Path | None = None) -> Result:
    connections = max(1, n // per_connection)
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "CASEGRAPH_DATABASE_URL": f"sqlite://{tmp}/bench.sqlite3",
            "CASEGRAPH_JWT_SECRET": SECRET,
            "CASEGRAPH_BROADCAST_URL": "memory://",
            "CASEGRAPH_RATE_LIMITS": "off",
            "CASEGRAPH_LOG_LEVEL": "WARNING",
        }
        if source is not None:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source), env.get("PYTHONPATH")]))
        server = subprocess.Popen(
            [sys.executable, "-m", "casegraph.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_raise_nofile,
            cwd=tmp,
        )
        workers: list[multiprocessing.process.BaseProcess] = []
        pipes: list[Connection] = []
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
                for _ in range(400):
                    try:
                        if (await http.get("/healthz")).status_code == 200:
                            break
                    except httpx.HTTPError:
                        await asyncio.sleep(0.1)
                await set_up_world(http, agents)
                # Warm up: one subscriber and one event, so lazy imports and caches are in place.
                await _warm_up(port, http)
                await asyncio.sleep(0.5)
                rss_before = rss_kib(server.pid)

                tokens = [token(f"agent{i % agents}", "AGENT") for i in range(agents)]
                jobs = [(tokens[i % agents], per_connection) for i in range(connections)]
                context = multiprocessing.get_context("spawn")
                for k in range(clients):
                    parent, child = context.Pipe()
                    worker = context.Process(target=client_process, args=(port, jobs[k::clients], child), daemon=True)
                    worker.start()
                    workers.append(worker)
                    pipes.append(parent)
                for pipe in pipes:
                    await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
                deadline = time.monotonic() + HANDSHAKE_TIMEOUT
                while await active_subscriptions(http) < connections * per_connection + 0:
                    if time.monotonic() > deadline:
                        raise TimeoutError("subscriptions did not all register")
                    await asyncio.sleep(0.2)
                await asyncio.sleep(2.0)
                rss_idle = rss_kib(server.pid)

                cpu_before = cpu_seconds(server.pid)
                for pipe in pipes:
                    pipe.send("go")
                sent = time.perf_counter()
                await file_case(http, "Bench")
                mutation_ms = (time.perf_counter() - sent) * 1000
                arrivals: list[float] = []
                for pipe in pipes:
                    kind, values = await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
                    assert kind == "arrivals"
                    arrivals += values
                cpu_after = cpu_seconds(server.pid)
                for pipe in pipes:
                    pipe.send("close")
        finally:
            for running in workers:
                running.join(timeout=30)
                if running.is_alive():
                    running.kill()
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    total = connections * per_connection
    latencies = sorted((t - sent) * 1000 for t in arrivals)
    if len(latencies) < total:
        print(f"warning: {total - len(latencies)} of {total} subscribers received nothing", file=sys.stderr)
    return Result(
        subscribers=total,
        per_connection=per_connection,
        connections=connections,
        p50_ms=statistics.median(latencies) if latencies else float("nan"),
        p99_ms=_percentile(latencies, 0.99) if latencies else float("nan"),
        max_ms=latencies[-1] if latencies else float("nan"),
        received=len(latencies),
        kib_per_idle_subscription=(rss_idle - rss_before) / total,
        server_cpu_us_per_delivery=(cpu_after - cpu_before) * 1e6 / max(1, len(latencies)),
        mutation_ms=mutation_ms,
        rss_before_kib=rss_before,
        rss_idle_kib=rss_idle,
    )


async def _warm_up(port: int, http: httpx.AsyncClient) -> None:
    loop = asyncio.get_running_loop()
    arrivals: list[float] = []
    acked = asyncio.Event()
    transport, protocol = await loop.create_connection(
        lambda: LeanSubscriber("127.0.0.1", port, token("agent0", "AGENT"), 1, acked.set, arrivals), "127.0.0.1", port
    )
    await asyncio.wait_for(acked.wait(), 30)
    while await active_subscriptions(http) < 1:
        await asyncio.sleep(0.05)
    await file_case(http, "Warm-up")
    deadline = time.monotonic() + 30
    while not arrivals and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    transport.close()
    while await active_subscriptions(http) > 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--per-connection", type=int, default=1, help="subscriptions per WebSocket (default 1)")
    parser.add_argument("--agents", type=int, default=50, help="distinct agent users among the subscribers")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--source",
        type=Path,
        help="serve from this source tree instead (e.g. `git archive` of an older commit, for before/after)",
    )
    args = parser.parse_args(argv)
    _raise_nofile()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(
        f"fan-out: queueEvents of one group, one mutation, {args.per_connection} subscription(s) per connection; {machine}"
    )
    header = f"{'subscribers':>11} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'KiB/idle sub':>12} {'CPU µs/delivery':>15} {'received':>9}"
    print(header)
    results = []
    for n in args.subscribers:
        r = asyncio.run(
            run(n, per_connection=args.per_connection, agents=args.agents, clients=args.clients, source=args.source)
        )
        results.append(r)
        print(
            f"{r.subscribers:>11} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f} {r.max_ms:>8.1f} "
            f"{r.kib_per_idle_subscription:>12.1f} {r.server_cpu_us_per_delivery:>15.1f} {r.received:>9}",
            flush=True,
        )
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "machine": machine,
                    "query": QUERY,
                    "source": str(args.source or "installed"),
                    "results": [asdict(r) for r in results],
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
