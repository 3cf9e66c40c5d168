"""The real thing: ``casegraph serve`` and ``casegraph seed-demo`` as separate processes.

api.md *Running it*: ``serve`` on an empty database creates the schema itself; ``/healthz`` and
``/readyz`` report liveness and readiness; configuration comes from the environment. A SIGTERM
stops the server cleanly. ``seed-demo`` loads demo data into an empty database and leaves a
database with data alone.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from casegraph.auth import issue_token
from casegraph.domain.enums import Role
from casegraph.settings import Settings

SERVER_SECRET = "server-process-test-secret-0123456789abcdef"
START_TIMEOUT = 45.0
STOP_TIMEOUT = 10.0
CLEAN_EXIT_CODES = (0, -signal.SIGTERM)

CREATE_GROUP = """
mutation Group($input: CreateAssignmentGroupInput!) {
  createAssignmentGroup(input: $input) { assignmentGroup { code } errors { code field } }
}
"""
CREATE_CASE_TYPE = """
mutation Type($input: CreateCaseTypeInput!) {
  createCaseType(input: $input) { caseType { code } errors { code field } }
}
"""
CREATE_CASE = """
mutation Create($input: CreateCaseInput!) {
  createCase(input: $input) { case { id number status version } errors { code field } }
}
"""
READ_CASE = """
{
  case(id: CASE_ID) { id number title description status stage version requester { id } history { totalCount } }
  caseByNumber(number: CASE_NUMBER) { id }
  cases { totalCount }
}
"""


def casegraph_command() -> list[str]:
    """The installed console script, or the module when the script is not beside this Python."""
    script = Path(sys.executable).with_name("casegraph")
    return [str(script)] if script.exists() else [sys.executable, "-m", "casegraph.cli"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def environment(database: Path, **extra: str) -> dict[str, str]:
    """This process's environment without any CASEGRAPH_* setting, plus the test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEGRAPH_")}
    return {
        **env,
        "CASEGRAPH_DATABASE_URL": f"sqlite://{database}",
        "CASEGRAPH_JWT_SECRET": SERVER_SECRET,
        "CASEGRAPH_BROADCAST_URL": "memory://",
        "CASEGRAPH_ENV": "development",
        **extra,
    }


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    database: Path
    log_path: Path
    log: IO[bytes]

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Send ``sig`` and wait; returns the exit code (kills it if it does not stop in time)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
                pytest.fail(f"the server did not stop within {STOP_TIMEOUT}s of {sig.name}:\n{self.output()}")
        return int(self.process.returncode)


def start_server(tmp_path: Path, database: Path, name: str = "server") -> Server:
    port = free_port()
    log_path = tmp_path / f"{name}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [*casegraph_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=environment(database),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Server(process=process, base_url=f"http://127.0.0.1:{port}", database=database, log_path=log_path, log=log)
    try:
        wait_until_live(server)
    except BaseException:
        server.stop(signal.SIGKILL)
        log.close()
        raise
    return server


def wait_until_live(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    with httpx.Client(base_url=server.base_url, timeout=2.0) as http:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                pytest.fail(f"the server exited with {server.process.returncode} at start:\n{server.output()}")
            try:
                if http.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    pytest.fail(f"/healthz did not answer within {START_TIMEOUT}s:\n{server.output()}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A server on a fresh, empty SQLite file (``serve`` must create the schema itself)."""
    database = tmp_path / "casegraph.sqlite3"
    assert not database.exists()
    running = start_server(tmp_path, database)
    try:
        yield running
    finally:
        running.stop(signal.SIGTERM)
        running.log.close()


def token(sub: str, role: Role, name: str) -> str:
    return issue_token(Settings(jwt_secret=SERVER_SECRET), sub=sub, roles=[role], name=name)


def graphql(http: httpx.Client, query: str, variables: dict[str, Any], bearer: str) -> dict[str, Any]:
    response = http.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {bearer}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert not body.get("errors"), body["errors"]
    data: dict[str, Any] = body["data"]
    return data


# --- serve -----------------------------------------------------------------------------------------


def test_a_fresh_server_is_live_and_ready_with_its_database(server: Server) -> None:
    # when
    with httpx.Client(base_url=server.base_url, timeout=5.0) as http:
        live = http.get("/healthz")
        ready = http.get("/readyz")
    # then
    assert live.status_code == 200
    assert ready.status_code == 200, ready.text
    assert ready.json()["ready"] is True
    assert ready.json()["checks"]["database"] == "ok"
    assert all(value == "ok" for value in ready.json()["checks"].values())
    assert server.database.exists()


def test_a_case_created_over_http_reads_back(server: Server) -> None:
    # given: an administrator sets up a group and a case type on the empty database
    admin = token("ada", Role.ADMIN, "Ada")
    alice = token("alice", Role.CONSTITUENT, "Alice")
    with httpx.Client(base_url=server.base_url, timeout=10.0) as http:
        group = graphql(http, CREATE_GROUP, {"input": {"code": "ROADS", "name": "Roads"}}, admin)
        case_type = graphql(
            http,
            CREATE_CASE_TYPE,
            {
                "input": {
                    "code": "POTHOLE",
                    "name": "Pothole",
                    "workflow": "PUBLIC_SERVICE",
                    "assignmentGroupCode": "ROADS",
                    "autoAssign": False,
                }
            },
            admin,
        )
        # when: a constituent files a case and reads it back
        created = graphql(
            http,
            CREATE_CASE,
            {
                "input": {
                    "caseTypeCode": "POTHOLE",
                    "title": "Pothole on Elm Street",
                    "description": "Deep enough to lose a wheel.",
                    "impact": 2,
                    "urgency": 1,
                }
            },
            alice,
        )
        case = created["createCase"]["case"]
        read_back = READ_CASE.replace("CASE_ID", json.dumps(case["id"]))
        read = graphql(http, read_back.replace("CASE_NUMBER", json.dumps(case["number"])), {}, alice)
    # then
    assert group["createAssignmentGroup"]["errors"] == []
    assert case_type["createCaseType"]["errors"] == []
    assert created["createCase"]["errors"] == []
    assert (case["status"], case["version"]) == ("NEW", 1)
    assert read["case"] == {
        "id": case["id"],
        "number": case["number"],
        "title": "Pothole on Elm Street",
        "description": "Deep enough to lose a wheel.",
        "status": "NEW",
        "stage": "INTAKE",
        "version": 1,
        "requester": {"id": "alice"},
        "history": {"totalCount": 1},
    }
    assert read["caseByNumber"] == {"id": case["id"]}
    assert read["cases"] == {"totalCount": 1}


def test_sigterm_stops_the_server_cleanly_and_the_data_survives_a_restart(tmp_path: Path) -> None:
    # given: a server that has stored a case
    database = tmp_path / "restart.sqlite3"
    first = start_server(tmp_path, database, name="first")
    admin = token("ada", Role.ADMIN, "Ada")
    try:
        with httpx.Client(base_url=first.base_url, timeout=10.0) as http:
            graphql(http, CREATE_GROUP, {"input": {"code": "ROADS", "name": "Roads"}}, admin)
        # when
        started = time.monotonic()
        exit_code = first.stop(signal.SIGTERM)
        stopped_after = time.monotonic() - started
    finally:
        first.stop(signal.SIGKILL)
        first.log.close()
    # then: a clean exit, quickly, without a traceback (uvicorn finishes its shutdown, then re-raises
    # the signal it caught so that supervisors see it: -SIGTERM is as clean as 0)
    assert exit_code in CLEAN_EXIT_CODES, first.output()
    assert stopped_after < STOP_TIMEOUT
    assert "Application shutdown complete" in first.output()
    assert "Traceback" not in first.output()
    # and: a second server on the same database starts (migrations already applied) and has the data
    second = start_server(tmp_path, database, name="second")
    try:
        with httpx.Client(base_url=second.base_url, timeout=10.0) as http:
            groups = graphql(http, "{ assignmentGroups { code } }", {}, admin)
            ready = http.get("/readyz")
    finally:
        second_exit_code = second.stop(signal.SIGTERM)
        second.log.close()
    assert groups["assignmentGroups"] == [{"code": "ROADS"}]
    assert ready.status_code == 200
    assert second_exit_code in CLEAN_EXIT_CODES, second.output()


# --- seed-demo -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoCounts:
    cases: int
    events: int
    users: int
    statuses: frozenset[str]
    workflows: frozenset[str]
    last_event: int


def demo_counts(database: Path) -> DemoCounts:
    with sqlite3.connect(database) as connection:

        def one(query: str) -> Any:
            return connection.execute(query).fetchone()[0]

        counts = DemoCounts(
            cases=one("SELECT count(*) FROM cases"),
            events=one("SELECT count(*) FROM case_events"),
            users=one("SELECT count(*) FROM users"),
            statuses=frozenset(r[0] for r in connection.execute("SELECT DISTINCT status FROM cases")),
            workflows=frozenset(r[0] for r in connection.execute("SELECT DISTINCT workflow FROM cases")),
            last_event=one("SELECT max(sequence) FROM case_events"),
        )
    connection.close()
    return counts


def seed_demo(tmp_path: Path, database: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*casegraph_command(), "seed-demo"],
        cwd=tmp_path,
        env=environment(database),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_seed_demo_loads_a_varied_demo_into_a_fresh_database_once(tmp_path: Path) -> None:
    # given
    database = tmp_path / "demo.sqlite3"
    # when
    first = seed_demo(tmp_path, database)
    loaded = demo_counts(database)
    second = seed_demo(tmp_path, database)
    # then: a few dozen cases of both workflows in many statuses, each with its history
    assert first.returncode == 0, first.stderr
    assert 24 <= loaded.cases <= 500
    assert loaded.workflows == {"PUBLIC_SERVICE", "CUSTOMER_SERVICE"}
    assert len(loaded.statuses) >= 8, loaded.statuses
    assert loaded.events > loaded.cases
    assert loaded.users >= 5
    # and: the second run is a no-op
    assert second.returncode == 0, second.stderr
    assert demo_counts(database) == loaded
    assert "Traceback" not in first.stderr + second.stderr
