"""Malware scanning with ClamAV's clamd (``CASEGRAPH_CLAMD_URL``): its INSTREAM command, over TCP or
a Unix socket.

The protocol: ``zINSTREAM\\0``, then the bytes as chunks each led by its length (4 bytes, big
endian), a zero length to end; clamd answers one NUL-terminated line, ``stream: OK`` or
``stream: <signature> FOUND`` (or ``… ERROR`` when it could not scan, e.g. over its StreamMaxLength).
The bytes are read from the attachment store chunk by chunk, never whole.

A file arrives ``PENDING`` and is served only once clamd said ``OK``. clamd out of reach (no
connection, no answer in time) raises ``ScannerUnavailable``: every file stays pending and the
worker (``casegraph/attachment_scanner.py``) retries with backoff. A failure of this file alone —
clamd's ``… ERROR`` about it, clamd closing on it mid-stream (e.g. over its StreamMaxLength), the
store unable to read its bytes — raises ``ScanFailed``: the file's attempts are counted and the
files behind it go on (services/attachment_scans.py).
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass
from typing import Final

from botocore.exceptions import ClientError

from casegraph.domain.attachments import ScanStatus
from casegraph.services.attachment_store import AttachmentStore
from casegraph.settings import ClamdAddress

INSTREAM: Final = b"zINSTREAM\0"
END: Final = struct.pack(">I", 0)
# clamd's answer is one short line; anything longer is not clamd.
MAX_REPLY: Final = 4096


class ScannerUnavailable(Exception):
    """clamd could not be reached or did not answer: every file stays pending, to be tried again."""


class ScanFailed(Exception):
    """This file could not be scanned (clamd or the store failed on it): counted on the file."""


@dataclass(frozen=True)
class Verdict:
    status: ScanStatus
    signature: str | None = None  # what clamd found, for the staff's record


def parse_reply(reply: bytes) -> Verdict:
    text = reply.rstrip(b"\0\n").decode("utf-8", "replace").strip()
    _, _, outcome = text.partition(": ")
    if outcome == "OK":
        return Verdict(ScanStatus.CLEAN)
    if outcome.endswith(" FOUND"):
        return Verdict(ScanStatus.INFECTED, outcome.removesuffix(" FOUND").strip() or "unknown")
    raise ScanFailed(f"clamd could not scan the file: {text!r}")


class ClamdScanner:
    """The ``Scanner`` of a deployment with clamd: files wait ``PENDING`` for its verdict."""

    arrival_status = ScanStatus.PENDING

    def __init__(self, address: ClamdAddress, *, timeout: float = 60.0) -> None:
        self.address = address
        self.timeout = timeout

    async def scan(self, store: AttachmentStore, sha256: str) -> ScanStatus:
        return (await self.verdict(store, sha256)).status

    async def verdict(self, store: AttachmentStore, sha256: str) -> Verdict:
        """clamd's verdict on kept bytes; FileNotFoundError when the store has none."""
        try:
            present = await store.exists(sha256)
        except ClientError as error:
            raise ScanFailed(f"the store could not look the file up: {error!r}") from error
        if not present:
            raise FileNotFoundError(sha256)
        try:
            async with asyncio.timeout(self.timeout):
                return await self._instream(store, sha256)
        except TimeoutError as error:
            raise ScannerUnavailable(f"clamd did not answer in {self.timeout:.0f} s") from error

    async def _instream(self, store: AttachmentStore, sha256: str) -> Verdict:
        try:
            reader, writer = await self._connect()
        except OSError as error:
            raise ScannerUnavailable(f"clamd unreachable: {error!r}") from error
        try:
            writer.write(INSTREAM)
            chunks = store.read(sha256)
            while True:
                try:
                    chunk = await anext(chunks)
                except StopAsyncIteration:
                    break
                except FileNotFoundError:
                    raise
                except ClientError as error:  # the object store refused this object: this file's
                    raise ScanFailed(f"the store could not read the file: {error!r}") from error
                except Exception as error:  # the store out of reach: every file's
                    raise ScannerUnavailable(f"the store could not be read: {error!r}") from error
                writer.write(struct.pack(">I", len(chunk)) + chunk)
                await writer.drain()
            writer.write(END)
            await writer.drain()
            reply = await reader.readuntil(b"\0")
        except asyncio.LimitOverrunError as error:
            raise ScanFailed("clamd's answer was not one line") from error
        except (OSError, asyncio.IncompleteReadError) as error:
            # Connected, then cut off on this file (clamd closes over its StreamMaxLength): if
            # clamd itself went away, the next file's connection says so.
            raise ScanFailed(f"clamd stopped on the file: {error!r}") from error
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass
        return parse_reply(reply)

    async def ping(self) -> None:
        """Raise ScannerUnavailable unless clamd answers PING with PONG: what readiness asks."""
        try:
            reader, writer = await self._connect()
        except OSError as error:
            raise ScannerUnavailable(f"clamd unreachable: {error!r}") from error
        try:
            writer.write(b"zPING\0")
            await writer.drain()
            reply = await reader.readuntil(b"\0")
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
            raise ScannerUnavailable(f"clamd did not answer PING: {error!r}") from error
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass
        if reply.rstrip(b"\0").strip() != b"PONG":
            raise ScannerUnavailable(f"clamd answered PING with {reply[:40]!r}")

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.address.socket_path is not None:
            return await asyncio.open_unix_connection(self.address.socket_path, limit=MAX_REPLY)
        return await asyncio.open_connection(self.address.host, self.address.port, limit=MAX_REPLY)
