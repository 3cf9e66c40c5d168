"""Observability against real ``casegraph serve`` processes: JSON logs, the WebSocket request id,
the active-subscriptions gauge, and metrics summed over the workers of ``serve --workers 2``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.live.support import (
    REPO_ROOT,
    GraphQLHttp,
    LiveWorld,
    ServerProcess,
    case_events_query,
    free_port,
    run_sync,
    server_env,
    set_up_world,
    start_server,
    ws_connect,
)

WAIT = 10.0
HISTORY_QUERY = "query History($id: ID!) { case(id: $id) { history { edges { node { type requestId } } } } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, LiveWorld]]:
    workdir = tmp_path_factory.mktemp("observability")
    env = server_env(database_url=f"sqlite://{workdir / 'casegraph.sqlite3'}", sla_interval="0")
    process = start_server("observability", env, workdir, wait_ready=True)
    try:
        world = run_sync(lambda: set_up_world(process.http_url))
        yield process, world
    finally:
        process.stop()


def metric(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(key) == value for key, value in labels.items()):
                return float(sample.value)
    return None


async def wait_for_metric(base_url: str, name: str, expected: float) -> None:
    deadline = time.monotonic() + WAIT
    value: float | None = None
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as http:
        while time.monotonic() < deadline:
            value = metric((await http.get("/metrics")).text, name)
            if value == expected:
                return
            await asyncio.sleep(0.1)
    raise AssertionError(f"{name} stayed {value}, expected {expected}")


async def test_active_subscriptions_rise_and_fall_over_a_real_websocket(
    server: tuple[ServerProcess, LiveWorld],
) -> None:
    process, world = server
    await wait_for_metric(process.http_url, "casegraph_active_subscriptions", 0)
    async with ws_connect(process.ws_url, world.token("dana")) as connection:
        first = await connection.subscribe(case_events_query())
        await wait_for_metric(process.http_url, "casegraph_active_subscriptions", 1)
        await connection.subscribe(case_events_query())
        await wait_for_metric(process.http_url, "casegraph_active_subscriptions", 2)
        # when the client completes one
        await first.stop()
        await wait_for_metric(process.http_url, "casegraph_active_subscriptions", 1)
    # and when it goes away with the other still open
    await wait_for_metric(process.http_url, "casegraph_active_subscriptions", 0)


async def test_a_websocket_keeps_its_request_id_for_the_events_its_mutations_write(
    server: tuple[ServerProcess, LiveWorld],
) -> None:
    process, world = server
    mutation = "mutation File($input: CreateCaseInput!) { createCase(input: $input) { case { id } errors { code } } }"
    case_input = {
        "caseTypeCode": "POTHOLE",
        "title": "Over the socket",
        "description": "Deep.",
        "impact": 2,
        "urgency": 2,
    }
    async with ws_connect(process.ws_url, world.token("alice"), headers={"X-Request-ID": "socket-42"}) as connection:
        assert connection.ws.response is not None
        assert connection.ws.response.headers["X-Request-ID"] == "socket-42"
        operation = await connection.subscribe(mutation, {"input": case_input})
        payload = await operation.next()
    assert payload["errors"] == []
    async with GraphQLHttp(process.http_url) as gql:
        data = await gql.data(HISTORY_QUERY, {"id": payload["case"]["id"]}, token=world.token("dana"))
    assert [edge["node"]["requestId"] for edge in data["case"]["history"]["edges"]] == ["socket-42"]
    # and the hub has delivered it: the lag metrics are there, and settle at zero
    await wait_for_metric(process.http_url, "casegraph_event_log_lag_events", 0)


async def test_every_server_log_line_is_json_and_requests_carry_their_id(
    server: tuple[ServerProcess, LiveWorld],
) -> None:
    process, world = server
    async with httpx.AsyncClient(base_url=process.http_url, timeout=5) as http:
        response = await http.post(
            "/graphql",
            json={"query": "query Me { me { id } }"},
            headers={"Authorization": f"Bearer {world.token('eli')}", "X-Request-ID": "live-log-1"},
        )
    assert response.headers["x-request-id"] == "live-log-1"
    deadline = time.monotonic() + WAIT
    while True:
        lines = [json.loads(line) for line in process.log_tail(100_000).splitlines() if line.strip()]
        access = [
            line for line in lines if line.get("request_id") == "live-log-1" and line["logger"] == "casegraph.access"
        ]
        if access or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    [line] = access
    assert (line["status"], line["user"], line["operation_name"]) == (200, "eli", "Me")
    # uvicorn's own lines go through the same formatter; its access log is off (ours replaces it)
    assert any(entry["logger"].startswith("uvicorn") for entry in lines)
    assert not any(entry["logger"] == "uvicorn.access" for entry in lines)
    assert world.token("eli") not in process.log_tail(100_000)


# --------------------------------------------------------------------------------------------
# serve --workers 2


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("observability-workers")
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEGRAPH_")}
    env.update(server_env(database_url=f"sqlite://{workdir / 'casegraph.sqlite3'}", sla_interval="0"))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env["PYTHONPATH"] = str(REPO_ROOT)
    port = free_port()
    log_path = workdir / "workers.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "casegraph.cli", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_healthy(base, process, log_path)
            yield base
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
                pytest.fail("serve --workers ignored SIGTERM")


def _wait_healthy(base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.2)


def test_a_scrape_of_any_worker_reports_the_requests_of_all_workers(two_workers: str) -> None:
    # given: /readyz answered by both workers (each on a fresh connection), counted here
    answered_by: list[Any] = []
    while len(set(answered_by)) < 2:
        assert len(answered_by) < 300, f"only worker {set(answered_by)} answered"
        response = httpx.get(f"{two_workers}/readyz", timeout=5)
        assert response.status_code == 200, response.text
        answered_by.append(response.json()["pid"])
    # then: every scrape, whichever worker answers it, counts them all
    for _ in range(6):
        text = httpx.get(f"{two_workers}/metrics", timeout=5).text
        assert metric(text, "casegraph_http_requests_total", method="GET", route="/readyz", status="200") == len(
            answered_by
        )
