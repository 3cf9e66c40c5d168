"""CPU per request of the queue query through the ASGI application, in process (no HTTP server).

    python -m bench.profile_queue --database-url postgres://…/qa_perf [--requests 300]
        [--first 50] [--normal] [--profile cprofile|pyinstrument] [--query-file F]

Requests go straight into the Starlette app (middleware, view, Strawberry, the compiled path);
only uvicorn's HTTP parsing is left out, which makes the figure steadier than a load test on a
shared machine. ``--normal`` switches planning off (the per-field execution, for comparison).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import statistics
import time
from pathlib import Path
from typing import Any

from tortoise import Tortoise

from casegraph.app import create_app
from casegraph.auth import issue_token
from casegraph.db import tortoise_config
from casegraph.settings import RateLimits, Settings
from tests.perf.queue_dataset import PEOPLE
from tests.perf.queue_query import QUEUE_QUERY

BATCH = 25


async def call(app: Any, body: bytes, token: str) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--first", type=int, default=50)
    parser.add_argument("--who", default="agent")
    parser.add_argument("--normal", action="store_true", help="switch the compiled path off")
    parser.add_argument("--profile", choices=("cprofile", "pyinstrument"))
    parser.add_argument("--query-file", help="a document to send instead of the queue query")
    parser.add_argument("--variables", default=None, help="JSON variables (default: {first: N})")
    args = parser.parse_args()

    settings = Settings(
        jwt_secret="perf-secret-perf-secret-perf-secret-32",
        rate_limits=RateLimits.off(),
        database_url=args.database_url,
        sla_interval=0,
        outbox_interval=0,
    )
    app = create_app(settings, manage_resources=False)
    await Tortoise.init(config=tortoise_config(args.database_url))
    if args.normal:
        from casegraph.fastpath.executor import PLANS

        PLANS.get = lambda executor: None  # type: ignore[method-assign]
    person = PEOPLE[args.who]
    token = issue_token(settings, sub=person.sub, roles=list(person.roles), name=person.name, agency=person.agency)
    query = Path(args.query_file).read_text() if args.query_file else QUEUE_QUERY
    variables = json.loads(args.variables) if args.variables else {"first": args.first}
    body = json.dumps({"query": query, "variables": variables}).encode()
    status, answer = await call(app, body, token)
    assert status == 200 and b'"errors"' not in answer, answer[:2000]
    for _ in range(30):  # warm caches and the connection pool
        await call(app, body, token)
    profiler: Any = None
    if args.profile == "cprofile":
        profiler = cProfile.Profile()
        profiler.enable()
    elif args.profile == "pyinstrument":
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002, async_mode="enabled")
        profiler.start()
    # CPU per request over batches: the least is the steadiest figure on a shared machine.
    batches: list[float] = []
    started = time.perf_counter()
    for batch in range(0, args.requests, BATCH):
        cpu = time.process_time()
        for _ in range(min(BATCH, args.requests - batch)):
            await call(app, body, token)
        batches.append((time.process_time() - cpu) / min(BATCH, args.requests - batch))
    wall = time.perf_counter() - started
    cpu = sum(batches) / len(batches) * args.requests
    if args.profile == "cprofile":
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(35)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    elif args.profile == "pyinstrument":
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    print(
        f"{'normal' if args.normal else 'compiled'}: {args.requests} requests, "
        f"{1000 * cpu / args.requests:.3f} ms CPU/request (least batch {1000 * min(batches):.3f}, median "
        f"{1000 * statistics.median(batches):.3f}), {1000 * wall / args.requests:.3f} ms wall/request, "
        f"response {len(answer)} bytes"
    )
    await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main())
