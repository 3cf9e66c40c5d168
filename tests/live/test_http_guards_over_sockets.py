"""Issue 14 §2 over real sockets: CORS for HTTP, and request bodies over the limit.

A page on an allowed origin (``CASEGRAPH_ALLOWED_ORIGINS``) may call the API over HTTP — its
preflight is answered, the response names the origin — and open a WebSocket; any other origin
gets neither. A body over the configured limit is refused with 413 before it is read whole:
a declared length at once, a chunked body as soon as it passes the limit; nothing in it runs.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any, Final

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from casegraph.domain.enums import Role
from tests.conftest import BACKENDS
from tests.live.support import (
    ServerProcess,
    mint_token,
    postgres_database,
    server_env,
    sqlite_server,
    start_server,
    ws_connect,
)

ALLOWED: Final = "https://desk.example.gov"
OTHER: Final = "https://evil.example"
BODY_LIMIT: Final = 16 * 1024
INTAKE_LIMIT: Final = 64 * 1024
INTAKE_SECRET: Final = "an-intake-secret-long-enough-for-production-0123"
SOCKET_TIMEOUT: Final = 15.0

CREATE_GROUP: Final = """
mutation Group($input: CreateAssignmentGroupInput!) {
  createAssignmentGroup(input: $input) { assignmentGroup { code } errors { code } }
}
"""
GROUPS: Final = "{ assignmentGroups { code } }"


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {
        "allowed_origins": ALLOWED,
        "max_body_bytes": str(BODY_LIMIT),
        "max_intake_bytes": str(INTAKE_LIMIT),
        "intake_secret": INTAKE_SECRET,
        "intake_case_type": "POTHOLE",
    }
    if request.param == "sqlite":
        with sqlite_server(tmp_path_factory, "guards", **env) as process:
            yield process
        return
    with postgres_database() as database_url:
        process = start_server(
            "guards-pg", server_env(database_url=database_url, **env), tmp_path_factory.mktemp("guards")
        )
        try:
            yield process
        finally:
            process.stop()


@pytest.fixture(scope="module")
def admin() -> str:
    return mint_token("ada", Role.ADMIN)


def vary(response: httpx.Response) -> set[str]:
    return {value.strip().lower() for value in response.headers.get("vary", "").split(",")}


def create_group_body(code: str, padding: int) -> bytes:
    """The mutation as a JSON body, with ``padding`` bytes in a member GraphQL ignores."""
    return json.dumps(
        {
            "query": CREATE_GROUP,
            "variables": {"input": {"code": code, "name": code.title()}},
            "padding": "x" * padding,
        }
    ).encode()


def group_codes(http: httpx.Client, token: str) -> set[str]:
    response = http.post("/graphql", json={"query": GROUPS}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return {group["code"] for group in response.json()["data"]["assignmentGroups"]}


def unique_code() -> str:
    return f"G{uuid.uuid4().hex[:8].upper()}"


# --- CORS ------------------------------------------------------------------------------------------


def preflight(http: httpx.Client, origin: str) -> httpx.Response:
    return http.options(
        "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def test_a_preflight_from_an_allowed_origin_is_answered(server: ServerProcess) -> None:
    # when
    with httpx.Client(base_url=server.http_url, timeout=SOCKET_TIMEOUT) as http:
        response = preflight(http, ALLOWED)
    # then
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == ALLOWED
    allowed_headers = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed_headers
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "origin" in vary(response)
    # bearer tokens, not cookies: no credentials mode
    assert "access-control-allow-credentials" not in response.headers


def test_a_preflight_from_another_origin_is_not_allowed(server: ServerProcess) -> None:
    # when
    with httpx.Client(base_url=server.http_url, timeout=SOCKET_TIMEOUT) as http:
        response = preflight(http, OTHER)
    # then
    assert "access-control-allow-origin" not in response.headers


def test_a_response_names_an_allowed_origin_only(server: ServerProcess, admin: str) -> None:
    # when: the same request from a page on each origin
    with httpx.Client(base_url=server.http_url, timeout=SOCKET_TIMEOUT) as http:
        responses = {
            origin: http.post(
                "/graphql",
                json={"query": "{ me { id } }"},
                headers={"Authorization": f"Bearer {admin}", "Origin": origin},
            )
            for origin in (ALLOWED, OTHER)
        }
    # then: both ran (CORS is the browser's to enforce), only the allowed page may read it
    assert all(response.status_code == 200 for response in responses.values())
    assert responses[ALLOWED].headers["access-control-allow-origin"] == ALLOWED
    assert "retry-after" in responses[ALLOWED].headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in responses[OTHER].headers
    # a cache must not hand one origin's answer to another
    assert all("origin" in vary(response) for response in responses.values())


async def test_websocket_handshakes_follow_the_same_list(server: ServerProcess, admin: str) -> None:
    # when / then
    async with ws_connect(server.ws_url, admin, origin=ALLOWED) as connection:
        assert connection.ws.subprotocol == "graphql-transport-ws"
    with pytest.raises(InvalidStatus) as refused:
        async with ws_connect(server.ws_url, admin, origin=OTHER):
            pass
    assert refused.value.response.status_code == 403


# --- body limit ------------------------------------------------------------------------------------


def raw_request(server: ServerProcess, head: str) -> str:
    """Send only a request head (no body) and return the status line of the answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=SOCKET_TIMEOUT) as connection:
        connection.sendall(head.encode())
        answer = b""
        while b"\r\n" not in answer:
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n", 1)[0].decode()


def test_a_body_declared_over_the_limit_is_refused_before_it_is_sent(server: ServerProcess) -> None:
    # when: a head announcing 100 MiB, and not one byte of it
    status = raw_request(
        server,
        (
            "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {100 * 1024 * 1024}\r\n\r\n"
        ),
    )
    # then: answered at once, not after waiting for the body
    assert status.split()[1] == "413", status


def test_a_chunked_body_over_the_limit_is_refused_and_nothing_in_it_runs(server: ServerProcess, admin: str) -> None:
    # given: a mutation padded past the limit, sent in chunks without a declared length
    code = unique_code()
    body = create_group_body(code, padding=BODY_LIMIT)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    with httpx.Client(base_url=server.http_url, timeout=SOCKET_TIMEOUT) as http:
        # when
        response = http.post(
            "/graphql",
            content=chunks(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {admin}",
                "Origin": ALLOWED,
            },
        )
        # then: a GraphQL-shaped 413 the page may read, and no group
        assert response.status_code == 413, response.text
        assert "content-length" not in response.request.headers
        error = response.json()["errors"][0]
        assert error["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "maxBytes": BODY_LIMIT}
        assert response.headers["access-control-allow-origin"] == ALLOWED
        assert code not in group_codes(http, admin)
        assert http.get("/healthz").status_code == 200


def test_a_body_under_the_limit_runs(server: ServerProcess, admin: str) -> None:
    # given: the same mutation, padded to just under the limit
    code = unique_code()
    body = create_group_body(code, padding=0)
    body = create_group_body(code, padding=BODY_LIMIT - len(body) - 1)
    with httpx.Client(base_url=server.http_url, timeout=SOCKET_TIMEOUT) as http:
        # when
        response = http.post(
            "/graphql",
            content=body,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {admin}",
            },
        )
        # then
        assert response.status_code == 200, response.text
        payload: dict[str, Any] = response.json()["data"]["createAssignmentGroup"]
        assert payload == {"assignmentGroup": {"code": code}, "errors": []}
        assert code in group_codes(http, admin)


def test_a_mail_over_the_intake_limit_is_refused(server: ServerProcess) -> None:
    # given: the right secret, and a message larger than intake's own limit
    raw = b"From: carol@example.org\r\nSubject: big\r\n\r\n" + b"x" * INTAKE_LIMIT
    with httpx.Client(base_url=server.http_url, timeout=SOCKET_TIMEOUT) as http:
        # when
        response = http.post(
            "/intake/email",
            content=raw,
            headers={
                "X-Casegraph-Intake-Secret": INTAKE_SECRET,
                "Content-Type": "message/rfc822",
            },
        )
    # then
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
