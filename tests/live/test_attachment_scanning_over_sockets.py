"""Scanning on a real server (issue 18): ``casegraph serve`` with clamd (a real one, EICAR-only
signatures) and an S3-compatible bucket; the server's own worker scans what is uploaded, and both
sides watching the case hear the verdicts live — the letter cleared and served, the EICAR file
quarantined and never served. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest

from casegraph.settings import S3Location
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
from tests.live.test_attachments_over_sockets import upload
from tests.services.clamd_server import EICAR, ClamdServer
from tests.services.object_store_server import ObjectStoreServer, bucket_keys

EVENT = "action case { attachments { filename scanStatus url } }"
LETTER = b"The bench by the fountain is broken.\n"


@pytest.fixture(scope="module", params=BACKENDS)
def bucket(request: pytest.FixtureRequest, object_store_server: ObjectStoreServer) -> tuple[str, S3Location]:
    """The backend of this module's server, and its bucket."""
    return str(request.param), object_store_server.new_bucket()


@pytest.fixture(scope="module")
def server(
    bucket: tuple[str, S3Location],
    tmp_path_factory: pytest.TempPathFactory,
    clamd_server: ClamdServer,
    object_store_server: ObjectStoreServer,
) -> Iterator[ServerProcess]:
    backend, location = bucket
    workdir = tmp_path_factory.mktemp(f"scanning-{backend}")
    with backend_database(backend, workdir) as url:
        env = server_env(
            database_url=url,
            attachments_dir=str(workdir / "files"),
            attachments_url=f"s3://{location.bucket}/{location.prefix}",
            s3_endpoint_url=object_store_server.endpoint_url,
            clamd_url=f"unix://{clamd_server.socket_path}",
        )
        process = start_server(f"scanning-{backend}", env, workdir)
        try:
            yield process
        finally:
            process.stop()


@pytest.fixture(scope="module")
def world(server: ServerProcess) -> LiveWorld:
    return live_world(server)


async def test_both_sides_hear_the_verdicts_live_and_only_the_clean_file_is_served(
    server: ServerProcess, world: LiveWorld, object_store_server: ObjectStoreServer, bucket: tuple[str, S3Location]
) -> None:
    async with GraphQLHttp(server.http_url) as gql:
        # given: dana and alice watch alice's case
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
            # when: alice sends a letter and the EICAR test file; the server's worker scans them
            await upload(server, world.token("alice"), case_id, "letter.txt", LETTER)
            eicar = await upload(server, world.token("alice"), case_id, "eicar.txt", EICAR)
            staff_events, requester_events = [await feed.take(4) for feed in feeds]
        # then: both sides hear both uploads and both verdicts
        for events in (staff_events, requester_events):
            assert sorted(e["action"] for e in events) == ["ADD_ATTACHMENT"] * 2 + ["SCAN_ATTACHMENT"] * 2
            final = {a["filename"]: a for a in events[-1]["case"]["attachments"]}
            assert final["letter.txt"]["scanStatus"] == "CLEAN" and final["letter.txt"]["url"]
            assert (final["eicar.txt"]["scanStatus"], final["eicar.txt"]["url"]) == ("INFECTED", None)
        # and: the letter is served from the bucket; the EICAR file never had a link and its bytes
        # are gone from the bucket
        served_link = {a["filename"]: a["url"] for a in requester_events[-1]["case"]["attachments"]}["letter.txt"]
        async with httpx.AsyncClient(base_url=server.http_url, timeout=15.0) as http:
            served = await http.get(served_link, headers={"Authorization": f"Bearer {world.token('alice')}"})
        assert served.status_code == 200 and served.content == LETTER
        assert eicar["url"] is None
        _, location = bucket
        keys = bucket_keys(location, object_store_server.endpoint_url)
        assert [key.rsplit("/", 1)[-1] for key in keys] == [hashlib.sha256(LETTER).hexdigest()]
