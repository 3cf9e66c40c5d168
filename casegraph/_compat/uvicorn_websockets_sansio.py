# Follows upstream: uvicorn 0.54.0, uvicorn/protocols/websockets/websockets_sansio_impl.py
# Follows upstream: websockets 16.1.1, websockets/frames.py
"""A WebSocket server protocol for uvicorn that holds little per idle connection.

``casegraph serve`` runs uvicorn with this class (``ws=...``) in place of its sans-I/O protocol.
The ASGI behaviour is uvicorn's (``websockets_sansio_impl``, 0.54): the same scope, messages,
close codes, denial responses, flow control and shutdown. What differs is what an open
connection keeps while it waits, which at ten thousand dashboards is most of the server:

- one object with slots; what all connections share (the app, limits, logger…) is one object,
  and so are header names and the header values that recur from client to client;
- no websockets ``ServerProtocol`` (a uuid, a parser generator chain, the handshake request
  and response with their header maps, the last frame): frames are parsed here, from a buffer
  that exists only while a frame is partly received;
- the receive queue is a deque made for the messages in flight and a single waiter;
- keepalive pings come from one timer per server sweeping the connections, not a timer each;
- no per-message deflate: a compressor per socket costs ~40 KiB and CPU for every frame, for
  event messages of a few hundred bytes (the extension is never negotiated).

Sending is also cheaper: the scope's extensions carry ``SEND_TEXT_NOW`` (``{"send": callable}``),
a synchronous send of one text frame that the fan-out uses (``outlet.py``) — one transport write
per delivery, ``False`` when the socket's buffer is full (the caller then waits the ASGI way),
and ``ClientDisconnected`` once the connection is closing.

RFC 6455 as a server: client frames must be masked and carry no reserved bits (no extension
is negotiated), control frames are short and unfragmented, text is UTF-8, a message is at most
``ws_max_size`` bytes; a violation closes with 1002, 1007 or 1009 as websockets would. The live
tests (``tests/live/test_websocket_protocol.py``) run against this and uvicorn's protocol alike,
and ``tests/_compat/test_websocket_frame_parser.py`` fuzzes the frame parser against websockets'
own: the same frames accepted, the same refused, with the same close codes. One difference is
deliberate: an unsupported ``Sec-WebSocket-Version`` gets 426 naming version 13 (RFC 6455
section 4.4), where websockets answers 400.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import hashlib
import logging
import os
import weakref
from collections import deque
from http import HTTPStatus
from typing import Any, Final, cast
from urllib.parse import unquote

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent, WebSocketScope
from uvicorn.config import Config
from uvicorn.protocols.utils import (
    ClientDisconnected,
    get_client_addr,
    get_local_addr,
    get_path_with_query_string,
    get_remote_addr,
    is_ssl,
)
from uvicorn.server import ServerState
from websockets.frames import EXTERNAL_CLOSE_CODES

try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - the wheel ships the C speedups
    from websockets.utils import apply_mask

SEND_TEXT_NOW: Final = "casegraph.websocket.send_text_now"
GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CLOSE_TIMEOUT: Final = 10.0
EARLY_DATA_LIMIT: Final = 1 << 16

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
OPCODES: Final = frozenset((OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG))


def frame(opcode: int, payload: bytes) -> bytes:
    """An unmasked, final frame (servers never mask)."""
    length = len(payload)
    if length < 126:
        header = bytes((0x80 | opcode, length))
    elif length < 1 << 16:
        header = bytes((0x80 | opcode, 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 127)) + length.to_bytes(8, "big")
    return header + payload


def close_frame(code: int, reason: str = "") -> bytes:
    return frame(OP_CLOSE, code.to_bytes(2, "big") + reason.encode())


# Headers whose values recur from client to client: one copy serves every connection (the
# scope keeps its headers as long as the socket lives). Others (keys, cookies, ids) are unique.
SHARED_HEADER_VALUES: Final = frozenset(
    {
        "host",
        "upgrade",
        "connection",
        "sec-websocket-version",
        "sec-websocket-protocol",
        "sec-websocket-extensions",
        "origin",
        "user-agent",
        "accept-encoding",
        "accept-language",
        "pragma",
        "cache-control",
    }
)
SHARED_HEADERS_KEPT: Final = 4096


class Shared:
    """What every connection of one server reads alike."""

    __slots__ = (
        "app",
        "loop",
        "logger",
        "root_path",
        "asgi_version",
        "app_state",
        "connections",
        "tasks",
        "default_headers",
        "max_size",
        "keepalive",
        "headers",
    )

    def header(self, name: str, value: str) -> tuple[bytes, bytes]:
        """The scope's ``(name, value)``, shared with other connections when it recurs."""
        shared = name in SHARED_HEADER_VALUES
        key = (name, value if shared else "")
        known = self.headers.get(key)
        if known is None:
            known = (name.encode("latin-1"), value.encode("latin-1") if shared else b"")
            if len(self.headers) < SHARED_HEADERS_KEPT:
                self.headers[key] = known
        return known if shared else (known[0], value.encode("latin-1"))

    def __init__(
        self, config: Config, server_state: ServerState, app_state: dict[str, Any], loop: asyncio.AbstractEventLoop
    ) -> None:
        self.app = config.loaded_app
        self.loop = loop
        self.logger = logging.getLogger("uvicorn.error")
        self.root_path = config.root_path
        self.asgi_version = config.asgi_version
        self.app_state = app_state
        self.connections = server_state.connections
        self.tasks = server_state.tasks
        self.default_headers = server_state.default_headers
        self.max_size = config.ws_max_size
        self.keepalive = Keepalive(loop, config.ws_ping_interval, config.ws_ping_timeout)
        self.headers: dict[tuple[str, str], tuple[bytes, bytes]] = {}


_shared: weakref.WeakKeyDictionary[ServerState, Shared] = weakref.WeakKeyDictionary()


class Keepalive:
    """Pings each open connection every ``interval`` seconds and closes it (1011) when the
    pong is ``timeout`` seconds late; one timer sweeps them all, a quarter interval apart."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float | None, timeout: float | None) -> None:
        self.loop = loop
        self.interval = interval if interval else None
        self.timeout = timeout
        self.members: set[LeanWebSocketProtocol] = set()
        self.timer: asyncio.TimerHandle | None = None

    def add(self, connection: LeanWebSocketProtocol) -> None:
        if self.interval is None:
            return
        self.members.add(connection)
        if self.timer is None:
            self.timer = self.loop.call_later(self._period(), self._sweep)

    def discard(self, connection: LeanWebSocketProtocol) -> None:
        self.members.discard(connection)

    def _period(self) -> float:
        assert self.interval is not None
        return max(0.25, min(self.interval, self.timeout or self.interval) / 4)

    def _sweep(self) -> None:
        now = self.loop.time()
        for connection in list(self.members):
            connection.keepalive_tick(now, self)
        self.timer = self.loop.call_later(self._period(), self._sweep) if self.members else None


class LeanWebSocketProtocol(asyncio.Protocol):
    __slots__ = (
        "shared",
        "transport",
        "scope",
        "buffer",
        "fragments",
        "fragment_opcode",
        "fragment_size",
        "inbox",
        "receiver",
        "read_paused",
        "writable",
        "write_waiters",
        "handshake_complete",
        "close_sent",
        "disconnected",
        "initial_response",
        "accept_key",
        "close_timer",
        "next_ping",
        "ping_payload",
        "ping_sent",
        "__weakref__",
    )

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not config.loaded:
            config.load()  # pragma: no cover
        shared = _shared.get(server_state)
        if shared is None:
            shared = _shared[server_state] = Shared(config, server_state, app_state, _loop or asyncio.get_event_loop())
        self.shared = shared
        self.transport: asyncio.Transport | None = None
        self.scope: WebSocketScope | None = None
        self.buffer: bytearray | None = None
        self.fragments: list[bytes] | None = None
        self.fragment_opcode = 0
        self.fragment_size = 0
        self.inbox: deque[ASGIReceiveEvent] | None = None
        self.receiver: asyncio.Future[None] | None = None
        self.read_paused = False
        self.writable = True
        self.write_waiters: list[asyncio.Future[None]] | None = None
        self.handshake_complete = False
        self.close_sent = False
        self.disconnected = False
        self.initial_response: tuple[int, list[tuple[str, str]], bytes] | None = None
        self.accept_key: bytes | None = None
        self.close_timer: asyncio.TimerHandle | None = None
        self.next_ping = 0.0
        self.ping_payload: bytes | None = None
        self.ping_sent = 0.0

    # ---- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.shared.connections.add(self)  # type: ignore[arg-type]

    def connection_lost(self, exc: Exception | None) -> None:
        shared = self.shared
        shared.keepalive.discard(self)
        self._put({"type": "websocket.disconnect", "code": 1005 if self.handshake_complete else 1006})
        shared.connections.discard(self)
        self.handshake_complete = True
        self.disconnected = True
        self.resume_writing()  # a send waiting for the buffer to drain must not wait forever
        if self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = None
        if exc is None and self.transport is not None:
            self.transport.close()

    def eof_received(self) -> None:
        pass

    def pause_writing(self) -> None:
        self.writable = False

    def resume_writing(self) -> None:
        self.writable = True
        waiters, self.write_waiters = self.write_waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def data_received(self, data: bytes) -> None:
        if self.buffer is None:
            self.buffer = bytearray(data)
        else:
            self.buffer += data
        if self.scope is None:
            self._read_handshake()
        elif self.handshake_complete and not self.disconnected:
            self._read_frames()
        elif len(self.buffer) > EARLY_DATA_LIMIT and self.transport is not None:
            # Frames before the handshake is answered: a client may not send them, let alone many.
            self.buffer = None
            self.transport.close()

    def shutdown(self) -> None:
        """The server is stopping (uvicorn calls this on every connection)."""
        transport = self.transport
        assert transport is not None
        self.shared.keepalive.discard(self)
        if self.close_sent:
            if self.close_timer is not None:
                self.close_timer.cancel()
                self.close_timer = None
            transport.close()
            return
        if self.handshake_complete:
            self._put({"type": "websocket.disconnect", "code": 1012})
            transport.write(close_frame(1012))
            self.close_sent = True
        else:
            self._send_500()
        transport.close()

    # ---- the opening handshake

    def _read_handshake(self) -> None:
        buffer = self.buffer
        assert buffer is not None and self.transport is not None
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > 65536:
                self._reject(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Request headers are too large.")
            return
        head = bytes(buffer[:end]).decode("latin-1")
        del buffer[: end + 4]
        if not buffer:
            self.buffer = None
        lines = head.split("\r\n")
        method, _, rest = lines[0].partition(" ")
        target = rest.rpartition(" ")[0]
        headers: list[tuple[bytes, bytes]] = []
        fields: dict[str, str] = {}
        subprotocols: list[str] = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            headers.append(self.shared.header(name, value))
            if name == "sec-websocket-protocol":
                subprotocols.extend(token.strip() for token in value.split(",") if token.strip())
            else:
                fields[name] = f"{fields[name]}, {value}" if name in fields else value
        problem = _handshake_problem(method, fields)
        if problem is not None:
            status, reason = problem
            self._reject(status, reason, upgrade_required=status == HTTPStatus.UPGRADE_REQUIRED)
            return
        key = fields["sec-websocket-key"].encode("ascii")
        self.accept_key = base64.b64encode(hashlib.sha1(key + GUID).digest())
        shared, transport = self.shared, self.transport
        raw_path, _, query_string = target.partition("?")
        self.scope = {
            "type": "websocket",
            "asgi": {"version": shared.asgi_version, "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": "wss" if is_ssl(transport) else "ws",
            "server": get_local_addr(transport),
            "client": get_remote_addr(transport),
            "root_path": shared.root_path,
            "path": shared.root_path + unquote(raw_path),
            "raw_path": shared.root_path.encode("ascii") + raw_path.encode("ascii"),
            "query_string": query_string.encode("ascii"),
            "headers": headers,
            "subprotocols": subprotocols,
            "state": shared.app_state.copy(),
            "extensions": {"websocket.http.response": {}, SEND_TEXT_NOW: {"send": self.send_text_now}},
        }
        self._put({"type": "websocket.connect"})
        task = shared.loop.create_task(self._run_asgi())
        task.add_done_callback(shared.tasks.discard)
        shared.tasks.add(task)

    def _reject(self, status: HTTPStatus, reason: str, *, upgrade_required: bool = False) -> None:
        assert self.transport is not None
        body = f"Failed to open a WebSocket connection: {reason}.\n".encode()
        extra = [("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13")] if upgrade_required else []
        self.transport.write(_response(status, extra + [("Content-Type", "text/plain")], body))
        self.handshake_complete = True
        self.close_sent = True
        self.transport.close()

    # ---- ASGI

    async def _run_asgi(self) -> None:
        assert self.scope is not None and self.transport is not None
        logger = self.shared.logger
        try:
            result = await self.shared.app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            pass  # pragma: full coverage
        except BaseException:
            logger.exception("Exception in ASGI application\n")
            self._send_500()
        else:
            if not self.handshake_complete:
                logger.error("ASGI callable returned without completing handshake.")
                self._send_500()
            elif result is not None:
                logger.error("ASGI callable should return None, but returned '%s'.", result)
        if self.close_timer is None:
            self.transport.close()

    async def receive(self) -> ASGIReceiveEvent:
        while not self.inbox:
            waiter = self.receiver = self.shared.loop.create_future()
            try:
                await waiter
            finally:
                self.receiver = None
        message = self.inbox.popleft()
        if not self.inbox:
            self.inbox = None  # an idle connection holds no deque
            if self.read_paused and self.transport is not None:
                self.read_paused = False
                self.transport.resume_reading()
        return message

    async def send(self, message: ASGISendEvent) -> None:
        while not self.writable:
            waiter = self.shared.loop.create_future()
            if self.write_waiters is None:
                self.write_waiters = []
            self.write_waiters.append(waiter)
            await waiter
        if self.disconnected:
            raise ClientDisconnected()
        transport = self.transport
        assert transport is not None and self.scope is not None
        kind = message["type"]
        if not self.handshake_complete and self.initial_response is None:
            if kind == "websocket.accept":
                self._accept(cast(dict[str, Any], message))
            elif kind == "websocket.close":
                self._put({"type": "websocket.disconnect", "code": 1006})
                self._log_status("403")
                transport.write(_response(HTTPStatus.FORBIDDEN, [("Content-Type", "text/plain; charset=utf-8")], b""))
                self.close_sent = True
                self.handshake_complete = True
                transport.close()
            elif kind == "websocket.http.response.start":
                status = cast(int, message["status"])  # type: ignore[typeddict-item]
                if not 100 <= status < 600:
                    raise RuntimeError("Invalid HTTP status code '%d' in response." % status)
                self._log_status(str(status))
                headers = [
                    (name.decode("latin-1"), value.decode("latin-1"))
                    for name, value in message.get("headers", [])  # type: ignore[attr-defined]
                ]
                self.initial_response = (status, headers, b"")
            else:
                raise RuntimeError(
                    "Expected ASGI message 'websocket.accept', 'websocket.close' "
                    f"or 'websocket.http.response.start' but got '{kind}'."
                )
        elif not self.close_sent and self.initial_response is None:
            if transport.is_closing():
                raise ClientDisconnected()  # the peer closed, or the connection failed
            if kind == "websocket.send":
                data = message.get("bytes")
                if data is not None:
                    transport.write(frame(OP_BINARY, cast(bytes, data)))
                else:
                    text = message.get("text")
                    if text is not None:
                        transport.write(frame(OP_TEXT, cast(str, text).encode()))
            elif kind == "websocket.close":
                if not transport.is_closing():
                    code = cast(int, message.get("code", 1000))
                    reason = cast(str, message.get("reason", "") or "")
                    self._put({"type": "websocket.disconnect", "code": code, "reason": reason})
                    transport.write(close_frame(code, reason))
                    self.close_sent = True
                    self.shared.keepalive.discard(self)
                    if self.read_paused:
                        self.read_paused = False
                        transport.resume_reading()
                    self.close_timer = self.shared.loop.call_later(CLOSE_TIMEOUT, transport.close)
            else:
                raise RuntimeError(f"Expected ASGI message 'websocket.send' or 'websocket.close', but got '{kind}'.")
        elif self.initial_response is not None:
            if kind != "websocket.http.response.body":
                raise RuntimeError(f"Expected ASGI message 'websocket.http.response.body' but got '{kind}'.")
            status, headers, body = self.initial_response
            body += cast(bytes, message["body"])  # type: ignore[typeddict-item]
            self.initial_response = (status, headers, body)
            if not message.get("more_body", False):
                if not any(name.lower() == "content-type" for name, _ in headers):
                    headers = [*headers, ("Content-Type", "text/plain; charset=utf-8")]
                self._put({"type": "websocket.disconnect", "code": 1006})
                transport.write(_response(status, headers, body))
                self.close_sent = True
                transport.close()
        else:
            raise RuntimeError(f"Unexpected ASGI message '{kind}', after sending 'websocket.close'.")

    def send_text_now(self, text: str) -> bool:
        """One text frame, written now; False if the socket's buffer is full (send it the ASGI way)."""
        transport = self.transport
        if (
            self.disconnected
            or self.close_sent
            or not self.handshake_complete
            or transport is None
            or transport.is_closing()
        ):
            raise ClientDisconnected()
        if not self.writable:
            return False
        transport.write(frame(OP_TEXT, text.encode()))
        return True

    def _accept(self, message: dict[str, Any]) -> None:
        transport, scope = self.transport, self.scope
        assert transport is not None and scope is not None and self.accept_key is not None
        self.shared.logger.info(
            '%s - "WebSocket %s" [accepted]', get_client_addr(scope), get_path_with_query_string(scope)
        )
        lines = [
            b"HTTP/1.1 101 Switching Protocols",
            b"Upgrade: websocket",
            b"Connection: Upgrade",
            b"Sec-WebSocket-Accept: " + self.accept_key,
        ]
        subprotocol = message.get("subprotocol")
        if subprotocol:
            lines.append(b"Sec-WebSocket-Protocol: " + subprotocol.encode())
        for name, value in [*self.shared.default_headers, *message.get("headers", [])]:
            lines.append(name + b": " + value)
        self.accept_key = None
        if transport.is_closing():
            return
        transport.write(b"\r\n".join(lines) + b"\r\n\r\n")
        self.handshake_complete = True
        interval = self.shared.keepalive.interval
        if interval is not None:
            self.next_ping = self.shared.loop.time() + interval
            self.shared.keepalive.add(self)
        if self.buffer:
            self._read_frames()  # anything the client sent early

    def _send_500(self) -> None:
        if self.initial_response or self.handshake_complete:
            return
        assert self.transport is not None
        body = b"Internal Server Error"
        self.transport.write(_response(HTTPStatus.INTERNAL_SERVER_ERROR, [("Content-Type", "text/plain")], body))

    def _log_status(self, status: str) -> None:
        assert self.scope is not None
        self.shared.logger.info(
            '%s - "WebSocket %s" %s', get_client_addr(self.scope), get_path_with_query_string(self.scope), status
        )

    def _put(self, message: ASGIReceiveEvent) -> None:
        if self.inbox is None:
            self.inbox = deque()
        self.inbox.append(message)
        receiver = self.receiver
        if receiver is not None and not receiver.done():
            receiver.set_result(None)

    # ---- frames

    def _read_frames(self) -> None:
        buffer = self.buffer
        transport = self.transport
        assert transport is not None
        max_size = self.shared.max_size
        while buffer and self.buffer is buffer and not transport.is_closing():
            if len(buffer) < 2:
                return
            first, second = buffer[0], buffer[1]
            opcode, length, offset = first & 0x0F, second & 0x7F, 2
            # The checks come in websockets' order (Frame.parse, then Frame.check), so that a frame
            # breaking several rules is refused with the code uvicorn's own protocol would use.
            if opcode not in OPCODES:
                self._fail(1002, f"invalid opcode {opcode}")
                return
            if not second & 0x80:
                self._fail(1002, "incorrect masking")
                return
            if length == 126:
                if len(buffer) < 4:
                    return
                length, offset = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, offset = int.from_bytes(buffer[2:10], "big"), 10
            # Control frames count too: websockets allows a frame what is left of the message limit.
            if max_size is not None and self.fragment_size + length > max_size:
                self._fail(1009, f"over size limit ({self.fragment_size + length} > {max_size} bytes)")
                return
            end = offset + 4 + length
            if len(buffer) < end:
                return
            fin = bool(first & 0x80)
            if first & 0x70:
                self._fail(1002, "reserved bits must be 0")
                return
            if opcode >= OP_CLOSE and (length > 125 or not fin):
                self._fail(1002, "control frame too long" if length > 125 else "fragmented control frame")
                return
            payload = apply_mask(bytes(buffer[offset + 4 : end]), bytes(buffer[offset : offset + 4]))
            del buffer[:end]
            self._handle(opcode, fin, payload)
        if self.buffer is not None and not self.buffer:
            self.buffer = None

    def _handle(self, opcode: int, fin: bool, payload: bytes) -> None:
        if opcode == OP_TEXT or opcode == OP_BINARY:
            if self.fragments is not None:
                self._fail(1002, "expected a continuation frame")
            elif fin:
                self._deliver(opcode, payload)
            else:
                self.fragments, self.fragment_opcode, self.fragment_size = [payload], opcode, len(payload)
        elif opcode == OP_CONT:
            if self.fragments is None:
                self._fail(1002, "unexpected continuation frame")
                return
            self.fragments.append(payload)
            self.fragment_size += len(payload)
            if fin:
                data, kind = b"".join(self.fragments), self.fragment_opcode
                self.fragments, self.fragment_opcode, self.fragment_size = None, 0, 0
                self._deliver(kind, data)
        elif opcode == OP_CLOSE:
            self._closed_by_peer(payload)
        elif opcode == OP_PING:
            assert self.transport is not None
            if not self.close_sent:
                self.transport.write(frame(OP_PONG, payload))
        else:  # a pong (the opcode was checked with the header)
            if self.ping_payload is not None and payload == self.ping_payload:
                self.ping_payload = None
                interval = self.shared.keepalive.interval
                if interval is not None:
                    self.next_ping = self.ping_sent + interval

    def _deliver(self, opcode: int, data: bytes) -> None:
        if self.close_sent:
            return  # past websocket.close: reads go on only to see the peer's close
        if opcode == OP_TEXT:
            try:
                text = data.decode()
            except UnicodeDecodeError:
                self._fail(1007, "invalid UTF-8")
                return
            self._put({"type": "websocket.receive", "text": text})
        else:
            self._put({"type": "websocket.receive", "bytes": data})
        if not self.read_paused and self.transport is not None:
            self.read_paused = True
            self.transport.pause_reading()

    def _closed_by_peer(self, payload: bytes) -> None:
        transport = self.transport
        assert transport is not None
        if len(payload) == 1:
            self._fail(1002, "close frame too short")
            return
        code, reason = 1005, ""
        if len(payload) >= 2:
            code = int.from_bytes(payload[:2], "big")
            try:
                reason = payload[2:].decode()
            except UnicodeDecodeError:
                self._fail(1007, "invalid UTF-8 in close reason")
                return
            if not (code in EXTERNAL_CLOSE_CODES or 3000 <= code < 5000):
                self._fail(1002, "invalid close code")
                return
        if self.fragments is not None:
            # websockets refuses a close that cuts a message short (protocol.py, recv_frame).
            self._fail(1002, "incomplete fragmented message")
            return
        if self.close_sent:  # the peer answered our close: the closing handshake is complete
            if self.close_timer is not None:
                self.close_timer.cancel()
                self.close_timer = None
            transport.close()
            return
        if not transport.is_closing():
            self._put({"type": "websocket.disconnect", "code": code, "reason": reason})
            transport.write(close_frame(code) if code != 1005 else frame(OP_CLOSE, b""))
            transport.close()  # the app's sends from now on raise ClientDisconnected

    def _fail(self, code: int, reason: str) -> None:
        transport = self.transport
        assert transport is not None
        self.shared.logger.debug("closing a WebSocket: %s", reason)
        self._put({"type": "websocket.disconnect", "code": code, "reason": reason})
        if not self.close_sent:
            transport.write(close_frame(code, reason))
        self.close_sent = True
        self.buffer = None
        transport.close()

    def keepalive_tick(self, now: float, keepalive: Keepalive) -> None:
        transport = self.transport
        if self.close_sent or self.disconnected or transport is None or transport.is_closing():
            keepalive.discard(self)
            return
        if self.ping_payload is not None:
            if keepalive.timeout is not None and now - self.ping_sent > keepalive.timeout:
                keepalive.discard(self)
                self._fail(1011, "keepalive ping timeout")
            return
        if now >= self.next_ping:
            payload = os.urandom(4)
            self.ping_sent = now
            if keepalive.timeout is None:
                self.next_ping = now + (keepalive.interval or 0)  # no deadline: on schedule, answered or not
            else:
                self.ping_payload = payload
            transport.write(frame(OP_PING, payload))


def _handshake_problem(method: str, fields: dict[str, str]) -> tuple[HTTPStatus, str] | None:
    if method != "GET":
        return HTTPStatus.METHOD_NOT_ALLOWED, "the method must be GET"
    if "websocket" not in (token.strip().lower() for token in fields.get("upgrade", "").split(",")):
        return HTTPStatus.UPGRADE_REQUIRED, "missing Upgrade: websocket"
    if "upgrade" not in (token.strip().lower() for token in fields.get("connection", "").split(",")):
        return HTTPStatus.UPGRADE_REQUIRED, "missing Connection: Upgrade"
    if fields.get("sec-websocket-version", "").strip() != "13":
        return HTTPStatus.UPGRADE_REQUIRED, "Sec-WebSocket-Version must be 13"
    try:
        key = base64.b64decode(fields.get("sec-websocket-key", ""), validate=True)
    except ValueError:
        key = b""
    if len(key) != 16:
        return HTTPStatus.BAD_REQUEST, "invalid Sec-WebSocket-Key"
    return None


def _response(status: int, headers: list[tuple[str, str]], body: bytes) -> bytes:
    """A closing HTTP response: ``Date``, ``Connection`` and ``Content-Length`` unless given."""
    lines = [f"HTTP/1.1 {status} {_phrase(status)}"]
    names = {name.lower() for name, _ in headers}
    if "date" not in names:
        lines.append(f"Date: {email.utils.formatdate(usegmt=True)}")
    if "connection" not in names:
        lines.append("Connection: close")
    if "content-length" not in names:
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
