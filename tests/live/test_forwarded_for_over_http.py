"""``X-Forwarded-For`` sent as several header lines, to a real server behind a trusted proxy
(issue 14, section 5). The lines are one list: the proxy's appended line is the last, so the
client's own line cannot choose the address its per-IP limit is counted under. On SQLite (memory
counters) and PostgreSQL (database counters)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from casegraph.domain.enums import Role
from tests.conftest import BACKENDS
from tests.live.support import ServerProcess, backend_database, mint_token, server_env, start_server

MARK_READ_MUTATION = "mutation { markNotificationsRead }"


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Loopback is the trusted proxy; one mutation per client address an hour."""
    workdir = tmp_path_factory.mktemp(f"forwarded-{request.param}")
    with backend_database(str(request.param), workdir) as url:
        env = server_env(
            database_url=url,
            rate_limits="on",
            trusted_proxies="127.0.0.1/32",
            rate_mutations_per_ip="1/3600",
            rate_mutations_per_user="off",
        )
        process = start_server(f"forwarded-{request.param}", env, workdir)
        try:
            yield process
        finally:
            process.stop()


async def mark_read(http: httpx.AsyncClient, *forwarded: str) -> httpx.Response:
    headers = [
        ("Authorization", f"Bearer {mint_token('alice', Role.CONSTITUENT)}"),
        *(("X-Forwarded-For", line) for line in forwarded),
    ]
    return await http.post("/graphql", json={"query": MARK_READ_MUTATION}, headers=headers)


async def test_a_clients_own_forwarded_for_line_does_not_choose_its_address(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=15) as http:
        # given: the client 198.51.100.7 used its one mutation (its line forged, the proxy's line last)
        first = await mark_read(http, "192.0.2.1", "198.51.100.7")
        # when: it tries again under another forged first line
        second = await mark_read(http, "192.0.2.2", "198.51.100.7")
        # and another client behind the same proxy acts
        other = await mark_read(http, "198.51.100.8")
    # then: counted under the address the proxy saw, not the forged one
    assert first.status_code == 200 and first.json()["data"] == {"markNotificationsRead": 0}
    assert second.status_code == 429 and second.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert other.status_code == 200, other.text
