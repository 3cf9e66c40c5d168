"""The lean WebSocket protocol (``casegraph._compat.uvicorn_websockets_sansio``) under a real uvicorn.

It replaces uvicorn's own protocol in ``casegraph serve``, so it must behave like it: the ASGI
messages, the handshake, closing codes both ways, denial responses, pings, RFC 6455 errors,
keepalive and shutdown. A small ASGI app echoes; a raw socket breaks the rules on purpose.
Every test runs against both ours and uvicorn's ``websockets-sansio`` protocol, the one ours
follows: what passes on one and fails on the other is a difference to fix (or to document).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any, Final

import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from casegraph._compat.uvicorn_websockets_sansio import SEND_TEXT_NOW, LeanWebSocketProtocol
from tests.live.support import free_port

TIMEOUT = 10.0

# Ours, and the uvicorn protocol it follows (``uvicorn.Config(ws=...)`` accepts either).
IMPLEMENTATIONS: Final[dict[str, type[asyncio.Protocol] | str]] = {
    "lean": LeanWebSocketProtocol,
    "websockets-sansio": "websockets-sansio",
}


@pytest.fixture(params=list(IMPLEMENTATIONS))
def implementation(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


class EchoApp:
    """Accepts (or refuses, by path) and echoes; records the disconnect messages it receives."""

    def __init__(self, implementation: str) -> None:
        self.disconnects: list[dict[str, Any]] = []
        # Only ours offers the synchronous send; under uvicorn's the app sends the ASGI way.
        self.sends_now = implementation == "lean"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "websocket"
        assert (await receive())["type"] == "websocket.connect"
        if scope["path"] == "/refuse":
            await send({"type": "websocket.close"})
            return
        if scope["path"] == "/deny":
            await send({"type": "websocket.http.response.start", "status": 429, "headers": [(b"retry-after", b"7")]})
            await send({"type": "websocket.http.response.body", "body": b"slow down"})
            return
        offered = scope["subprotocols"]
        await send(
            {
                "type": "websocket.accept",
                "subprotocol": offered[0] if offered else None,
                "headers": [(b"x-echo", b"yes")],
            }
        )
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                self.disconnects.append(message)
                return
            text = message.get("text")
            if text == "close please":
                await send({"type": "websocket.close", "code": 4403, "reason": "Forbidden"})
            elif text == "now please" and self.sends_now:
                assert scope["extensions"][SEND_TEXT_NOW]["send"]("sent now") is True
            elif text == "now please":
                assert SEND_TEXT_NOW not in scope.get("extensions", {})
                await send({"type": "websocket.send", "text": "sent now"})
            elif text is not None:
                await send({"type": "websocket.send", "text": text})
            else:
                await send({"type": "websocket.send", "bytes": message["bytes"]})


@contextlib.asynccontextmanager
async def serving(app: EchoApp, implementation: str, **options: Any) -> AsyncIterator[tuple[int, uvicorn.Server]]:
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        ws=IMPLEMENTATIONS[implementation],
        ws_per_message_deflate=False,
        lifespan="off",
        log_level="warning",
        **options,
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    async with asyncio.timeout(TIMEOUT):
        while not server.started:
            await asyncio.sleep(0.01)
    try:
        yield port, server
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, TIMEOUT)


# ---- a client that breaks the rules on purpose


async def raw_handshake(
    port: int, *, version: str = "13", key: str | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = key if key is not None else base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET / HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: {version}\r\n\r\n".encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    return reader, writer, head


def client_frame(opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True, rsv: int = 0) -> bytes:
    first = (0x80 if fin else 0) | rsv | opcode
    mask = os.urandom(4) if masked else b""
    header = (
        bytes((first, (0x80 if masked else 0) | len(payload)))
        if len(payload) < 126
        else (bytes((first, (0x80 if masked else 0) | 126)) + len(payload).to_bytes(2, "big"))
    )
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if masked else payload
    return header + mask + body


async def server_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, second = await asyncio.wait_for(reader.readexactly(2), TIMEOUT)
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    assert not second & 0x80, "servers never mask"
    return first & 0x0F, await reader.readexactly(length)


async def close_code(reader: asyncio.StreamReader) -> int:
    while True:
        opcode, payload = await server_frame(reader)
        if opcode == 0x8:
            return int.from_bytes(payload[:2], "big")


# ---- behaviour


async def test_messages_round_trip_with_the_chosen_subprotocol_and_headers(implementation: str) -> None:
    async with serving(EchoApp(implementation), implementation) as (port, _):  # noqa: SIM117 - the client needs the port
        async with connect(f"ws://127.0.0.1:{port}/", subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
            await ws.send("hello")
            assert await ws.recv() == "hello"
            await ws.send(b"\x00\x01")
            assert await ws.recv() == b"\x00\x01"
            await ws.send(["frag", "ment"])  # one message in two frames
            assert await ws.recv() == "fragment"
            assert ws.subprotocol == "graphql-transport-ws"
            assert ws.response is not None and ws.response.headers["x-echo"] == "yes"
            pong = await ws.ping()
            await asyncio.wait_for(pong, TIMEOUT)
            await ws.send("now please")
            assert await ws.recv() == "sent now"


async def test_closing_codes_and_reasons_reach_the_other_side_both_ways(implementation: str) -> None:
    app = EchoApp(implementation)
    async with serving(app, implementation) as (port, _):
        async with connect(f"ws://127.0.0.1:{port}/") as ws:
            await ws.send("close please")
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert (ws.close_code, ws.close_reason) == (4403, "Forbidden")
        async with connect(f"ws://127.0.0.1:{port}/") as ws:
            await ws.close(code=4000, reason="bye")
        async with asyncio.timeout(TIMEOUT):
            while not app.disconnects:
                await asyncio.sleep(0.01)
    assert {"type": "websocket.disconnect", "code": 4000, "reason": "bye"} in app.disconnects


async def test_a_refusal_before_accepting_is_a_403_and_a_denial_response_keeps_its_status_and_body(
    implementation: str,
) -> None:
    async with serving(EchoApp(implementation), implementation) as (port, _):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://127.0.0.1:{port}/refuse"):
                pass
        assert refused.value.response.status_code == 403
        with pytest.raises(InvalidStatus) as denied:
            async with connect(f"ws://127.0.0.1:{port}/deny"):
                pass
        response = denied.value.response
        assert (response.status_code, response.headers["retry-after"], response.body) == (429, "7", b"slow down")


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (client_frame(0x1, b"hello", masked=False), 1002),
        (client_frame(0x1, b"hello", rsv=0x40), 1002),
        (client_frame(0x0, b"stray continuation"), 1002),
        (client_frame(0x9, b"x", fin=False), 1002),
        (client_frame(0x3, b"reserved opcode"), 1002),
        (client_frame(0x1, b"\xff\xfe not utf-8"), 1007),
        (client_frame(0x1, b"x" * 200), 1009),
        (client_frame(0x8, b"\x03\xe8"[:1]), 1002),
        (client_frame(0x8, (999).to_bytes(2, "big")), 1002),
    ],
    ids=[
        "unmasked",
        "reserved-bit",
        "stray-continuation",
        "fragmented-ping",
        "bad-opcode",
        "bad-utf8",
        "too-big",
        "short-close",
        "bad-close-code",
    ],
)
async def test_a_frame_against_the_rfc_closes_the_connection_with_its_code(
    frame: bytes, code: int, implementation: str
) -> None:
    async with serving(EchoApp(implementation), implementation, ws_max_size=100) as (port, _):
        reader, writer, head = await raw_handshake(port)
        assert head.startswith(b"HTTP/1.1 101")
        writer.write(frame)
        assert await close_code(reader) == code
        writer.close()


async def test_a_client_that_never_answers_pings_is_closed_and_one_that_does_stays(implementation: str) -> None:
    async with serving(EchoApp(implementation), implementation, ws_ping_interval=0.2, ws_ping_timeout=0.3) as (port, _):  # noqa: SIM117 - as above
        async with connect(f"ws://127.0.0.1:{port}/") as polite:
            reader, writer, _ = await raw_handshake(port)
            opcode, _ = await server_frame(reader)
            assert opcode == 0x9  # pinged
            assert await close_code(reader) == 1011  # then dropped for not answering
            writer.close()
            await polite.send("still here")  # websockets answers pings by itself
            assert await polite.recv() == "still here"


async def test_a_handshake_that_is_not_a_websocket_one_is_refused(implementation: str) -> None:
    async with serving(EchoApp(implementation), implementation) as (port, _):
        _, writer, head = await raw_handshake(port, version="8")
        if implementation == "lean":
            assert head.startswith(b"HTTP/1.1 426") and b"Sec-WebSocket-Version: 13" in head
        else:
            # A deliberate difference: websockets refuses an unsupported version as any bad
            # header (400); ours answers as RFC 6455 section 4.4 asks, 426 naming the version it speaks.
            assert head.startswith(b"HTTP/1.1 400")
        writer.close()
        _, writer, head = await raw_handshake(port, key="too short")
        assert head.startswith(b"HTTP/1.1 400")
        writer.close()


async def test_stopping_the_server_closes_open_connections_with_1012(implementation: str) -> None:
    async with serving(EchoApp(implementation), implementation) as (port, server):
        reader, writer, _ = await raw_handshake(port)
        server.should_exit = True
        assert await close_code(reader) == 1012
        writer.close()
