"""Attachments on a real server (issue 18): uploaded with a multipart request, announced live over
the WebSocket to whoever watches the case — each reading only the files they may see (the fan-out
shares one plan between viewers) — and downloaded by the link made for them. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import BACKENDS
from tests.live.support import (
    GraphQLHttp,
    LiveWorld,
    ServerProcess,
    backend_database,
    case_events_query,
    create_case,
    live_world,
    server_env,
    start_server,
    ws_connect,
)

EVENT = "action case { attachments { filename internal url } }"
ADD = """mutation Add($input: AddAttachmentInput!) {
  addAttachment(input: $input) { attachment { id url } errors { code field } }
}"""


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp(f"attachments-{request.param}")
    with backend_database(str(request.param), workdir) as url:
        env = server_env(database_url=url, attachments_dir=str(workdir / "files"))
        process = start_server(f"attachments-{request.param}", env, workdir)
        try:
            yield process
        finally:
            process.stop()


@pytest.fixture(scope="module")
def world(server: ServerProcess) -> LiveWorld:
    return live_world(server)


async def upload(server: ServerProcess, token: str, case_id: str, name: str, content: bytes, **fields: Any) -> Any:
    operations = {"query": ADD, "variables": {"input": {"caseId": case_id, "file": None, **fields}}}
    async with httpx.AsyncClient(base_url=server.http_url, timeout=15.0) as http:
        response = await http.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.file"]})},
            files={"0": (name, content, "text/plain")},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["addAttachment"]
    assert payload["errors"] == [], payload
    return payload["attachment"]


async def test_staff_and_the_requester_watching_one_case_each_see_their_own_files_live(
    server: ServerProcess, world: LiveWorld
) -> None:
    async with GraphQLHttp(server.http_url) as gql:
        # given: dana and alice both watch alice's case
        case_id, created = await create_case(gql, world, "alice", "Broken bench")
        await gql.mutate("assignToMe", {"caseId": case_id}, "case { id }", token=world.token("dana"))
        async with (
            ws_connect(server.ws_url, world.token("dana")) as staff_socket,
            ws_connect(server.ws_url, world.token("alice")) as requester_socket,
        ):
            feeds = [
                await socket.subscribe(case_events_query(EVENT), {"caseId": case_id, "after": created})
                for socket in (staff_socket, requester_socket)
            ]
            for feed in feeds:
                await feed.take(1)  # the assignment, replayed
            # when: dana attaches an internal quote, then alice a photo caption as text
            await upload(server, world.token("dana"), case_id, "quote.txt", b"Bench: 400 EUR\n", internal=True)
            mine = await upload(server, world.token("alice"), case_id, "where.txt", b"Next to the fountain.\n")
            staff_events, requester_events = [await feed.take(2) for feed in feeds]
        # then: both hear of both actions; each reads only the files they may see
        assert [e["action"] for e in staff_events] == ["ADD_ATTACHMENT", "ADD_ATTACHMENT"]
        assert [e["action"] for e in requester_events] == ["ADD_ATTACHMENT", "ADD_ATTACHMENT"]
        assert [a["filename"] for a in staff_events[-1]["case"]["attachments"]] == ["quote.txt", "where.txt"]
        assert [a["filename"] for a in requester_events[-1]["case"]["attachments"]] == ["where.txt"]
        assert [a["filename"] for a in requester_events[0]["case"]["attachments"]] == []
        # and: the link alice got over the socket is hers to use, not dana's
        link = requester_events[-1]["case"]["attachments"][0]["url"]
        async with httpx.AsyncClient(base_url=server.http_url, timeout=15.0) as http:
            hers = await http.get(link, headers={"Authorization": f"Bearer {world.token('alice')}"})
            not_his = await http.get(link, headers={"Authorization": f"Bearer {world.token('dana')}"})
        assert hers.status_code == 200 and hers.content == b"Next to the fountain.\n"
        assert not_his.status_code == 403
        assert mine["url"].split("?")[0] == link.split("?")[0]


def text_file(size: int, seed: int) -> bytes:
    line = f"line of file {seed}: the scanned form, page after page\n"
    return (line * (size // len(line) + 1)).encode()[:size]


def status_kib(pid: int, field: str) -> int:
    """A field of /proc/<pid>/status (VmRSS: resident now, VmHWM: its peak)."""
    line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith(field))
    return int(line.split()[1])


def reset_peak_rss(pid: int) -> None:
    """VmHWM starts afresh from the resident set now (Linux clear_refs 5, on our own child)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


async def test_a_file_far_over_the_spool_threshold_is_never_held_whole_in_the_servers_memory(
    server: ServerProcess, world: LiveWorld
) -> None:
    # given: alice's case, a first upload made (what it loads once is not what an upload costs),
    # and a file nine times Starlette's 1 MiB spool threshold, near the 10 MiB limit
    async with GraphQLHttp(server.http_url) as gql:
        case_id, _ = await create_case(gql, world, "alice", "Scanned forms")
    await upload(server, world.token("alice"), case_id, "first.txt", text_file(4096, seed=1))
    content = text_file(9 * 1024 * 1024, seed=2)
    pid = server.process.pid
    before = status_kib(pid, "VmRSS")
    reset_peak_rss(pid)
    # when
    attachment = await upload(server, world.token("alice"), case_id, "forms.txt", content)
    # then: stored whole, while the server's resident set never rose by even half the file: it was
    # streamed through in chunks, never read (or copied) whole
    rise = (status_kib(pid, "VmHWM") - before) * 1024
    assert attachment["url"]
    assert rise < len(content) // 2, f"the server's peak RSS rose by {rise / 2**20:.1f} MiB"
