"""A real HTTP receiver on 127.0.0.1 for webhook tests: records every POST, answers as told."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """``answer(delivery_id, attempt)`` picks the status code; attempts count from 1 per delivery."""

    answer: Callable[[str, int], int] = lambda _delivery, _attempt: 200
    received: list[Received] = field(default_factory=list)
    server: asyncio.Server | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def attempts(self, delivery_id: str) -> int:
        return sum(1 for r in self.received if r.headers.get("x-casegraph-delivery") == delivery_id)

    def accepted(self, path: str | None = None) -> list[Received]:
        return [r for r in self.received if 200 <= r.answered < 300 and (path is None or r.path == path)]

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = (await reader.readline()).decode()
            _method, path, _version = request_line.split(" ", 2)
            headers: dict[str, str] = {}
            while line := (await reader.readline()).decode().strip():
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            delivery = headers.get("x-casegraph-delivery", "")
            status = self.answer(delivery, self.attempts(delivery) + 1)
            self.received.append(Received(path, headers, body, status))
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
