"""casegraph as an Apollo Federation 2 subgraph next to a partner's (issue 7), with Apollo's own
packages: ``@apollo/composition`` composes our committed SDL with a partner subgraph that extends
``Case`` by its key, and an ``@apollo/gateway`` on loopback joins a real ``casegraph serve`` and the
partner's ``@apollo/subgraph`` server, forwarding each caller's token to casegraph.

The npm packages (exact versions in ``js/package.json``) are installed once into
``.test-services/federation-npm/``; nothing but the npm registry (for that install) and loopback
is used, and Apollo's telemetry is off. Without node/npm, or when the install fails, the tests
skip locally and fail in CI.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final, NoReturn

import httpx
import pytest

from casegraph.auth import issue_token
from casegraph.domain.enums import Role
from casegraph.settings import Settings
from tests.conftest import IN_CI, TEST_SECRET
from tests.live.support import (
    REPO_ROOT,
    GraphQLHttp,
    LiveWorld,
    ServerProcess,
    create_case,
    free_port,
    mint_token,
    run_sync,
    server_env,
    set_up_world,
    start_server,
)

JS_SOURCES: Final = Path(__file__).resolve().parent / "js"
NPM_CACHE: Final = REPO_ROOT / ".test-services" / "federation-npm"
INSTALL_TIMEOUT: Final = 600.0
READY_TIMEOUT: Final = 60.0
MIN_NODE_MAJOR: Final = 18
PARTNER_AGENCY: Final = "PARKS"

# Whatever the environment says, these processes report nothing to Apollo.
NODE_ENV_OVERRIDES: Final = {
    "APOLLO_TELEMETRY_DISABLED": "1",
    "APOLLO_KEY": "",
    "APOLLO_GRAPH_REF": "",
    "npm_config_audit": "false",
    "npm_config_fund": "false",
    "npm_config_update_notifier": "false",
}

CASE_WITH_INSPECTIONS = """
query CaseWithInspections($id: ID!) {
  case(id: $id) { id number status inspections { id finding } }
}
"""
INSPECTION_WITH_CASE = """
query InspectionWithCase($id: ID!) {
  inspection(id: $id) { id finding case { id number } }
}
"""


def unavailable(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"CI must run the federation tests: {reason}")
    pytest.skip(reason)


def node_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEGRAPH_")}
    env.update(NODE_ENV_OVERRIDES)
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def node() -> str:
    binary, npm = shutil.which("node"), shutil.which("npm")
    if binary is None or npm is None:
        unavailable("node and npm are needed for the Apollo federation tests")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < MIN_NODE_MAJOR:
        unavailable(f"node {version} is older than {MIN_NODE_MAJOR}")
    return binary


@pytest.fixture(scope="module")
def apollo(node: str) -> Path:
    """A directory with the pinned Apollo packages installed and our scripts beside them.

    The install is keyed by ``package.json``'s hash and moved into place only once complete, so an
    interrupted install is never mistaken for a finished one.
    """
    manifest = (JS_SOURCES / "package.json").read_bytes()
    target = NPM_CACHE / hashlib.sha256(manifest).hexdigest()[:16]
    if not (target / "node_modules").is_dir():
        staging = NPM_CACHE / f"staging-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        (staging / "package.json").write_bytes(manifest)
        npm = shutil.which("npm")
        assert npm is not None
        try:
            result = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock"],
                cwd=staging,
                env=node_env(),
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            shutil.rmtree(staging, ignore_errors=True)
            unavailable(f"npm install of the Apollo packages took over {INSTALL_TIMEOUT:.0f}s")
        if result.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            unavailable(f"npm install of the Apollo packages failed:\n{result.stderr[-2000:]}")
        with contextlib.suppress(OSError):  # another run finished first: keep theirs
            staging.rename(target)
        shutil.rmtree(staging, ignore_errors=True)
    for source in JS_SOURCES.iterdir():
        if source.suffix in {".mjs", ".graphql"}:
            shutil.copyfile(source, target / source.name)
    return target


@dataclass
class NodeProcess:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def log(self) -> str:
        self.log_file.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log_file.close()


def start_node(node: str, apollo: Path, script: str, workdir: Path, **env: str) -> NodeProcess:
    """Run one of our scripts on a free loopback port; returns once it printed ``ready``."""
    port = free_port()
    log_path = workdir / f"{script}-{port}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [node, str(apollo / script)],
        cwd=apollo,
        env=node_env(PORT=str(port), **env),
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    started = NodeProcess(name=script, port=port, process=process, log_path=log_path, log_file=log_file)
    deadline = time.monotonic() + READY_TIMEOUT
    while "ready " not in started.log():
        if process.poll() is not None or time.monotonic() > deadline:
            started.stop()
            raise AssertionError(f"{script} did not start:\n{started.log()[-4000:]}")
        time.sleep(0.2)
    return started


@dataclass
class Federation:
    gateway_url: str
    world: LiveWorld
    cases: dict[str, str]
    partner_token: str


@pytest.fixture(scope="module")
def federation(node: str, apollo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """casegraph + the partner subgraph + a gateway over both, all on loopback.

    alice filed ``visible`` (and sees it), bob filed ``invisible`` (alice may not see it) and
    ``referred``, which is referred to the PARKS partner agency. The partner has inspections of
    all three.
    """
    workdir = tmp_path_factory.mktemp("federation")
    database = workdir / "casegraph.sqlite3"
    casegraph: ServerProcess = start_server("casegraph", server_env(database_url=f"sqlite://{database}"), workdir)
    started: list[NodeProcess] = []
    try:
        world = run_sync(lambda: set_up_world(casegraph.http_url))

        async def file_cases() -> dict[str, str]:
            async with GraphQLHttp(casegraph.http_url) as gql:
                return {
                    "visible": (await create_case(gql, world, "alice", "Pothole on Elm Street"))[0],
                    "invisible": (await create_case(gql, world, "bob", "Broken bench"))[0],
                    "referred": (await create_case(gql, world, "bob", "Fallen tree"))[0],
                }

        cases = run_sync(file_cases)
        with contextlib.closing(sqlite3.connect(database)) as connection, connection:
            # Referrals have no mutation yet; the column is what PARTNER visibility reads.
            connection.execute("UPDATE cases SET referred_agency = ? WHERE id = ?", (PARTNER_AGENCY, cases["referred"]))
        inspections = [
            {"id": f"insp-{name}", "caseId": case_id, "finding": f"{name} checked"} for name, case_id in cases.items()
        ]
        started.append(start_node(node, apollo, "partner.mjs", workdir, PARTNER_INSPECTIONS=json.dumps(inspections)))
        subgraphs = [
            {"name": "casegraph", "url": f"{casegraph.http_url}/graphql"},
            {"name": "partner", "url": started[0].url},
        ]
        gateway_token = mint_token("federation-gateway", Role.PARTNER)
        started.append(
            start_node(
                node,
                apollo,
                "gateway.mjs",
                workdir,
                GATEWAY_SUBGRAPHS=json.dumps(subgraphs),
                GATEWAY_SERVICE_TOKEN=gateway_token,
            )
        )
        yield Federation(gateway_url=started[1].url, world=world, cases=cases, partner_token=mint_partner_token())
    finally:
        for process in reversed(started):
            process.stop()
        casegraph.stop()


def mint_partner_token() -> str:
    return issue_token(
        Settings(jwt_secret=TEST_SECRET),
        sub="svc-parks",
        roles=[Role.PARTNER],
        name="Parks service account",
        agency=PARTNER_AGENCY,
    )


def through_gateway(federation: Federation, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    response = httpx.post(
        federation.gateway_url,
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30.0,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert not body.get("errors"), body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def test_our_sdl_composes_with_a_partner_subgraph_that_extends_case(node: str, apollo: Path) -> None:
    result = subprocess.run(
        [
            node,
            str(apollo / "compose.mjs"),
            f"casegraph={REPO_ROOT / 'schema.graphql'}",
            f"partner={apollo / 'partner.graphql'}",
        ],
        cwd=apollo,
        env=node_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    composed = json.loads(result.stdout)
    assert composed["errors"] == []
    supergraph: str = composed["supergraphSdl"]
    # Case is one entity owned by both subgraphs, keyed by id in each; the partner adds a field.
    assert '@join__type(graph: CASEGRAPH, key: "id")' in supergraph
    assert '@join__type(graph: PARTNER, key: "id")' in supergraph
    assert "inspections: [Inspection!]! @join__field(graph: PARTNER)" in supergraph


def test_a_query_through_the_gateway_joins_our_case_with_the_partners_inspections(federation: Federation) -> None:
    case_id = federation.cases["visible"]
    data = through_gateway(federation, CASE_WITH_INSPECTIONS, {"id": case_id}, federation.world.token("alice"))
    case = data["case"]
    assert case["id"] == case_id and case["number"].startswith("CS") and case["status"]
    assert case["inspections"] == [{"id": "insp-visible", "finding": "visible checked"}]


def test_the_gateway_forwards_the_callers_token_so_an_invisible_case_is_null(federation: Federation) -> None:
    alice = federation.world.token("alice")
    assert through_gateway(federation, CASE_WITH_INSPECTIONS, {"id": federation.cases["invisible"]}, alice) == {
        "case": None
    }
    # Reached from the partner's side, the case goes through our _entities: null for alice too.
    data = through_gateway(federation, INSPECTION_WITH_CASE, {"id": "insp-invisible"}, alice)
    assert data == {"inspection": {"id": "insp-invisible", "finding": "invisible checked", "case": None}}
    data = through_gateway(federation, INSPECTION_WITH_CASE, {"id": "insp-visible"}, alice)
    assert data["inspection"]["case"]["id"] == federation.cases["visible"]


def test_a_partner_service_account_sees_through_the_gateway_only_cases_referred_to_its_agency(
    federation: Federation,
) -> None:
    token = federation.partner_token
    referred = through_gateway(federation, CASE_WITH_INSPECTIONS, {"id": federation.cases["referred"]}, token)
    assert referred["case"]["inspections"] == [{"id": "insp-referred", "finding": "referred checked"}]
    for name in ("visible", "invisible"):
        assert through_gateway(federation, CASE_WITH_INSPECTIONS, {"id": federation.cases[name]}, token) == {
            "case": None
        }
        data = through_gateway(federation, INSPECTION_WITH_CASE, {"id": f"insp-{name}"}, token)
        assert data["inspection"]["case"] is None
    data = through_gateway(federation, INSPECTION_WITH_CASE, {"id": "insp-referred"}, token)
    assert data["inspection"]["case"]["id"] == federation.cases["referred"]
