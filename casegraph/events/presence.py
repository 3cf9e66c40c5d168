"""Who is viewing or editing a case right now (issue 4, *Collision awareness*).

Presence is soft state, not history: it never touches the event log. Each viewer holds a
subscription; its process announces it on the broadcast channel when it starts, every
``HEARTBEAT`` seconds while it lasts, and when it ends. Every process keeps a board of the
announcements it heard; an entry not refreshed within ``TTL`` (a client gone without a word,
a server that died) expires. Watchers of a case get the board's new view whenever it changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

TTL: Final = 30.0
HEARTBEAT: Final = 10.0
SWEEP: Final = 2.0


@dataclass
class Entry:
    user_id: str
    name: str | None
    editing: bool
    since: float
    expires_at: float


@dataclass(frozen=True)
class Viewer:
    """One person on a case (several tabs of theirs fold into one; editing if any tab is)."""

    user_id: str
    name: str | None
    editing: bool
    since: float


@dataclass
class PresenceBoard:
    ttl: float = TTL
    clock: Callable[[], float] = time.time
    # case id -> connection key -> entry
    _entries: dict[str, dict[str, Entry]] = field(default_factory=dict)
    _watchers: dict[str, set[asyncio.Event]] = field(default_factory=dict)

    def apply(self, message: dict[str, Any]) -> None:
        """Apply an announcement (from this process or another); malformed ones are ignored."""
        case_id, key, op = message.get("case"), message.get("conn"), message.get("op")
        if not isinstance(case_id, str) or not isinstance(op, str):
            return
        entries = self._entries.setdefault(case_id, {})
        if op == "here" and isinstance(key, str) and isinstance(message.get("user"), str):
            existing = entries.get(key)
            now = self.clock()
            entries[key] = Entry(
                user_id=message["user"],
                name=message.get("name") if isinstance(message.get("name"), str) else None,
                editing=bool(message.get("editing")),
                since=existing.since if existing else float(message.get("since") or now),
                expires_at=now + self.ttl,
            )
        elif op == "gone" and isinstance(key, str):
            entries.pop(key, None)
        elif op == "editing" and isinstance(message.get("user"), str):
            for entry in entries.values():
                if entry.user_id == message["user"]:
                    entry.editing = bool(message.get("editing"))
        else:
            return
        if not entries:
            self._entries.pop(case_id, None)
        self._changed(case_id)

    def entry(self, case_id: str, key: str) -> Entry | None:
        return self._entries.get(case_id, {}).get(key)

    def viewers(self, case_id: str) -> list[Viewer]:
        folded: dict[str, Viewer] = {}
        for entry in self._entries.get(case_id, {}).values():
            seen = folded.get(entry.user_id)
            folded[entry.user_id] = Viewer(
                user_id=entry.user_id,
                name=entry.name or (seen.name if seen else None),
                editing=entry.editing or bool(seen and seen.editing),
                since=min(entry.since, seen.since) if seen else entry.since,
            )
        return sorted(folded.values(), key=lambda v: (v.since, v.user_id))

    def sweep(self) -> None:
        now = self.clock()
        for case_id in list(self._entries):
            entries = self._entries[case_id]
            expired = [key for key, entry in entries.items() if entry.expires_at <= now]
            for key in expired:
                del entries[key]
            if not entries:
                del self._entries[case_id]
            if expired:
                self._changed(case_id)

    async def watch(self, case_id: str) -> AsyncIterator[list[Viewer]]:
        """The current viewers, then again each time they change."""
        changed = asyncio.Event()
        self.listen(case_id, changed)
        try:
            last: list[Viewer] | None = None
            while True:
                current = self.viewers(case_id)
                if current != last:
                    last = current
                    yield current
                await changed.wait()
                changed.clear()
        finally:
            self.unlisten(case_id, changed)

    def listen(self, case_id: str, changed: asyncio.Event) -> None:
        """Set ``changed`` whenever the case's entries change (a shared stream's wake-up)."""
        self._watchers.setdefault(case_id, set()).add(changed)

    def unlisten(self, case_id: str, changed: asyncio.Event) -> None:
        watchers = self._watchers.get(case_id)
        if watchers is not None:
            watchers.discard(changed)
            if not watchers:
                del self._watchers[case_id]

    def _changed(self, case_id: str) -> None:
        for event in self._watchers.get(case_id, ()):
            event.set()


Announce = Callable[[dict[str, Any]], Awaitable[None]]


@contextlib.asynccontextmanager
async def present(
    board: PresenceBoard,
    announce: Announce,
    *,
    case_id: str,
    key: str,
    user_id: str,
    name: str | None,
    editing: bool,
    heartbeat: float = HEARTBEAT,
) -> AsyncIterator[None]:
    """Be on the board (everywhere) while the block runs; leave when it ends, however it ends."""
    since = board.clock()

    def here() -> dict[str, Any]:
        entry = board.entry(case_id, key)
        current = entry.editing if entry is not None else editing
        return {
            "op": "here",
            "case": case_id,
            "conn": key,
            "user": user_id,
            "name": name,
            "editing": current,
            "since": since,
        }

    async def beat() -> None:
        while True:
            await asyncio.sleep(heartbeat)
            await announce(here())

    await announce(here())
    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await announce({"op": "gone", "case": case_id, "conn": key})
