"""Frames to one WebSocket, written by the dispatcher without ever waiting on the socket.

The dispatcher writes thousands of frames per event from one task, so one client that stopped
reading must not hold up the others, and a task per frame would cost more than the frame.

Under ``casegraph serve`` the server protocol offers a synchronous send (``SEND_TEXT_NOW`` in
the scope's extensions, ``_compat/uvicorn_websockets_sansio.py``): one transport write, or "not now" when the
socket's buffer is full. Under another ASGI server the outlet *starts* each ASGI send by hand:
uvicorn's completes without suspending while the transport accepts writes, so that is all in
the common case. Either way, when a frame cannot go at once a task sends it the ASGI way
(waiting for the socket) and then the frames queued behind it, in order. Past
``BACKLOG_LIMIT`` queued frames the backlog is dropped and each subscriber that lost frames is
told from which event on: it re-reads those from the event log (``followers.py``) once the
socket drains, so nothing is lost and memory stays bounded.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Final, Protocol

log = logging.getLogger(__name__)

BACKLOG_LIMIT: Final = 256

SendText = Callable[[str], Coroutine[Any, Any, None]]


class FrameOwner(Protocol):
    def fell_behind(self, after: int) -> None:
        """Frames for events after ``after`` were dropped: re-read them from the log."""


class Outlet:
    __slots__ = ("_send", "_send_now", "_limit", "_backlog", "_flusher", "closed")

    def __init__(
        self, send: SendText, send_now: Callable[[str], bool] | None = None, *, backlog_limit: int = BACKLOG_LIMIT
    ) -> None:
        self._send = send
        self._send_now = send_now
        self._limit = backlog_limit
        self._backlog: deque[tuple[str, FrameOwner | None, int]] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self.closed = False

    @property
    def busy(self) -> bool:
        """A send is waiting for the socket; frames written now queue behind it."""
        return self._flusher is not None

    def write(self, frame: str, owner: FrameOwner | None = None, sequence: int = 0) -> None:
        """Send ``frame`` now if the socket takes it, else queue it (``sequence`` of its event)."""
        if self.closed:
            return
        if self._flusher is not None:
            backlog = self._backlog
            if backlog is None:
                backlog = self._backlog = deque()
            backlog.append((frame, owner, sequence))
            if len(backlog) > self._limit:
                self._drop_backlog()
            return
        send_now = self._send_now
        if send_now is not None:
            try:
                if send_now(frame):
                    return
            except Exception as error:  # noqa: BLE001 - the client went away; its handler cleans up
                self._fail(error)
                return
            self._flusher = asyncio.ensure_future(self._flush(self._send(frame), None, started=False))
            return
        sending = self._send(frame)
        try:
            waiting = sending.send(None)
        except StopIteration:
            return
        except Exception as error:  # noqa: BLE001 - as above
            self._fail(error)
            return
        self._flusher = asyncio.ensure_future(self._flush(sending, waiting))

    async def drained(self) -> None:
        """Wait until no send is pending (at once when none is)."""
        while self._flusher is not None and not self.closed:
            await asyncio.wait((self._flusher,))

    def close(self) -> None:
        self.closed = True
        self._backlog = None
        if self._flusher is not None:
            self._flusher.cancel()

    async def _flush(self, sending: Coroutine[Any, Any, None], waiting: Any, *, started: bool = True) -> None:
        try:
            if started:
                await _resume(sending, waiting)
            else:
                await sending
            while self._backlog:
                frame, _, _ = self._backlog.popleft()
                await self._send(frame)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001
            self._fail(error)
        finally:
            self._flusher = None

    def _drop_backlog(self) -> None:
        backlog = self._backlog
        self._backlog = None
        first: dict[int, tuple[FrameOwner, int]] = {}
        for _, owner, sequence in backlog or ():
            if owner is not None and id(owner) not in first:
                first[id(owner)] = (owner, sequence)
        for owner, sequence in first.values():
            owner.fell_behind(sequence - 1)

    def _fail(self, error: Exception) -> None:
        log.debug("websocket send failed: %s", error)
        self.closed = True
        self._backlog = None


async def _resume(sending: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Drive a coroutine that was started by hand to its end, as its task would have.

    ``waiting`` is what it yielded: a future it waits on (or None for a bare yield). Once that
    is done the coroutine is resumed; it then reads the future's result itself. If this task is
    cancelled the coroutine is closed, so its ``finally`` blocks run.
    """
    try:
        while True:
            if waiting is None:
                await asyncio.sleep(0)
            else:
                await asyncio.wait((waiting,))
            try:
                waiting = sending.send(None)
            except StopIteration:
                return
    except BaseException:
        sending.close()
        raise
