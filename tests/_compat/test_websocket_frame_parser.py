"""The lean protocol's frame parser, fuzzed against the websockets library's sans-I/O parser.

uvicorn's ``websockets-sansio`` protocol, which ours follows, parses frames with
``websockets.protocol.Protocol`` and then assembles messages and decodes text itself (1007 on
bad UTF-8). The reference here is that pair: websockets' parser in the open state on the server
side, and uvicorn's assembly. Both get the same bytes, cut into the same chunks, and must agree
on the messages delivered, the pings answered, and how the connection ends: closed by the peer
(with its code and reason) or refused (with the same close code). Examples are derandomized so
CI runs the same cases every time.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import Any, Final, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets.frames import OP_CLOSE, OP_CONT, OP_PING, OP_TEXT, Frame
from websockets.protocol import OPEN, Protocol, Side

from casegraph._compat.uvicorn_websockets_sansio import LeanWebSocketProtocol

Message = tuple[str, str | bytes]
# ("open",) while no end was reached; ("closed", code, reason) by the peer; ("refused", code).
End = tuple[Any, ...]

OPEN_END: Final[End] = ("open",)
MAX_SIZES: Final = (64, 300)


@dataclass
class Outcome:
    messages: list[Message] = field(default_factory=list)
    pongs: list[bytes] = field(default_factory=list)
    end: End = OPEN_END


# ---- ours, driven through asyncio.Protocol's callbacks with an in-memory transport


class MemoryTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class RecordingProtocol(LeanWebSocketProtocol):
    """Ours, noting the code it refuses with (a refusal and a peer's close look alike in the inbox)."""

    refused: int | None = None

    def _fail(self, code: int, reason: str) -> None:
        if self.refused is None:
            self.refused = code
        super()._fail(code, reason)


async def unused_app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("the frames are read without running the application")


CONFIGS: Final = {
    max_size: Config(app=unused_app, ws_max_size=max_size, ws_ping_interval=None, log_config=None)
    for max_size in MAX_SIZES
}
for config in CONFIGS.values():
    config.load()


def ours(chunks: list[bytes], max_size: int) -> Outcome:
    loop = asyncio.new_event_loop()
    try:
        protocol = RecordingProtocol(CONFIGS[max_size], ServerState(), {}, loop)
        transport = MemoryTransport()
        protocol.connection_made(transport)
        # As after a completed opening handshake (the handshake is covered by the live tests).
        protocol.scope = cast(Any, {"type": "websocket"})
        protocol.handshake_complete = True
        for chunk in chunks:
            if transport.is_closing():
                break
            protocol.data_received(chunk)
        outcome = Outcome(pongs=_pongs(bytes(transport.written)))
        for message in protocol.inbox or ():
            if message["type"] == "websocket.receive":
                text, data = message.get("text"), message.get("bytes")
                outcome.messages.append(("text", text) if text is not None else ("bytes", data or b""))
            elif message["type"] == "websocket.disconnect":
                code = message["code"]
                outcome.end = (
                    ("refused", code) if protocol.refused is not None else ("closed", code, message.get("reason", ""))
                )
                break
        return outcome
    finally:
        loop.close()


def _pongs(written: bytes) -> list[bytes]:
    """The payloads of the pong frames among the (unmasked) frames ours wrote."""
    pongs, offset = [], 0
    while offset < len(written):
        first, length = written[offset], written[offset + 1] & 0x7F
        offset += 2
        if length == 126:
            length, offset = int.from_bytes(written[offset : offset + 2], "big"), offset + 2
        elif length == 127:
            length, offset = int.from_bytes(written[offset : offset + 8], "big"), offset + 8
        if first & 0x0F == 0xA:
            pongs.append(written[offset : offset + length])
        offset += length
    return pongs


# ---- the reference: websockets' parser, and uvicorn's assembly on top


def reference(chunks: list[bytes], max_size: int) -> Outcome:
    connection = Protocol(Side.SERVER, state=OPEN, max_size=max_size)
    outcome = Outcome()
    fragments: list[bytes] = []
    kind = OP_TEXT
    for chunk in chunks:
        connection.receive_data(chunk)
        for frame in cast(list[Frame], connection.events_received()):
            if frame.opcode is OP_PING:
                outcome.pongs.append(bytes(frame.data))
            elif frame.opcode is OP_CLOSE:
                close = connection.close_rcvd
                assert close is not None
                outcome.end = ("closed", close.code, close.reason)
                return outcome
            elif frame.opcode.value <= 2:  # text, binary, continuation
                if frame.opcode is not OP_CONT:
                    kind, fragments = frame.opcode, []
                fragments.append(bytes(frame.data))
                if frame.fin:
                    data = b"".join(fragments)
                    if kind is OP_TEXT:
                        try:
                            outcome.messages.append(("text", data.decode()))
                        except UnicodeDecodeError:  # uvicorn: close 1007
                            outcome.end = ("refused", 1007)
                            return outcome
                    else:
                        outcome.messages.append(("bytes", data))
        if connection.parser_exc is not None:
            assert connection.close_sent is not None
            outcome.end = ("refused", connection.close_sent.code)
            return outcome
    return outcome


# ---- frames a client may send, and many it may not


def encode(first: int, payload: bytes, *, masked: bool, length_form: int) -> bytes:
    """One frame; ``length_form`` 0 picks the shortest length encoding, 126/127 force a longer one."""
    mask = os.urandom(4) if masked else b""
    size = len(payload)
    if length_form == 127 or size >= 1 << 16:
        head = bytes((first, (0x80 if masked else 0) | 127)) + size.to_bytes(8, "big")
    elif length_form == 126 or size >= 126:
        head = bytes((first, (0x80 if masked else 0) | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((first, (0x80 if masked else 0) | size))
    body = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload)) if masked else payload
    return head + mask + body


texts = st.text(max_size=40).map(str.encode)
bad_utf8 = st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"ok\xe2\x82", b"\xf8\x88\x80\x80\x80"])
close_codes = st.one_of(
    st.sampled_from([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4403, 4999]),
    st.sampled_from([0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]),
    st.integers(0, 65535),
)
close_payloads = st.one_of(
    st.just(b""),
    st.binary(min_size=1, max_size=1),
    st.tuples(close_codes, st.one_of(texts, bad_utf8)).map(lambda pair: pair[0].to_bytes(2, "big") + pair[1][:100]),
)
payloads = st.one_of(texts, bad_utf8, st.binary(max_size=80), st.binary(min_size=120, max_size=320))


@st.composite
def frames(draw: st.DrawFn) -> bytes:
    opcode = draw(st.one_of(st.sampled_from([0x0, 0x1, 0x2, 0x8, 0x9, 0xA]), st.integers(0, 15)))
    payload = draw(close_payloads if opcode == 0x8 and draw(st.booleans()) else payloads)
    fin = draw(st.booleans()) if opcode in (0x0, 0x1, 0x2) else draw(st.sampled_from([True, True, True, False]))
    rsv = draw(st.sampled_from([0, 0, 0, 0, 0x40, 0x20, 0x10]))
    masked = draw(st.sampled_from([True] * 9 + [False]))
    length_form = draw(st.sampled_from([0, 0, 0, 126, 127]))
    if draw(st.integers(0, 30)) == 0:
        # A header announcing far more than any limit, with no payload behind it.
        return bytes(((0x80 if fin else 0) | rsv | opcode, 0x80 | 127)) + (1 << 40).to_bytes(8, "big")
    return encode((0x80 if fin else 0) | rsv | opcode, payload, masked=masked, length_form=length_form)


@st.composite
def messages_in_fragments(draw: st.DrawFn) -> bytes:
    """A text or binary message split over continuation frames, other frames possibly in between."""
    opcode = draw(st.sampled_from([0x1, 0x2]))
    parts = draw(st.lists(st.one_of(texts, bad_utf8, st.binary(max_size=60)), min_size=2, max_size=5))
    out = b""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        out += encode((0x80 if last else 0) | (opcode if index == 0 else 0x0), part, masked=True, length_form=0)
        if not last and draw(st.booleans()):
            # Control frames may come between fragments; anything else may too, and is refused.
            ping = encode(0x80 | 0x9, draw(st.binary(max_size=10)), masked=True, length_form=0)
            out += draw(st.one_of(st.just(ping), frames()))
    return out


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[bytes], int]:
    data = b"".join(draw(st.lists(st.one_of(frames(), messages_in_fragments()), min_size=1, max_size=6)))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]  # the rest has not arrived yet
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=4)))
    chunks = [data[start:end] for start, end in zip([0, *cuts], [*cuts, len(data)]) if end > start]
    return chunks, draw(st.sampled_from(MAX_SIZES))


@settings(
    max_examples=1000, derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(streams())
def test_ours_accepts_and_refuses_the_frames_websockets_does_with_the_same_close_codes(
    stream: tuple[list[bytes], int],
) -> None:
    chunks, max_size = stream
    assert ours(chunks, max_size) == reference(chunks, max_size)


def test_the_comparison_tells_a_refusal_from_a_peer_s_close_and_sees_messages_and_pongs() -> None:
    # given a text message, a ping, and a close with code and reason; then the same with a bad opcode
    good = [
        encode(0x81, b"hi", masked=True, length_form=0)
        + encode(0x89, b"p", masked=True, length_form=0)
        + encode(0x88, (4000).to_bytes(2, "big") + b"bye", masked=True, length_form=0)
    ]
    bad = [encode(0x83, b"x", masked=True, length_form=0)]
    # when both parsers read them, then both report each the same way
    for parse in (ours, reference):
        assert parse(good, 64) == Outcome([("text", "hi")], [b"p"], ("closed", 4000, "bye"))
        assert parse(bad, 64) == Outcome([], [], ("refused", 1002))
