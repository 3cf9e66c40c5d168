"""The group memberships of the people holding WebSockets in this process, kept current.

Every operation on a socket is authorized with the user's memberships as they are now (issue 14
§1), as over HTTP; reading them for every operation would cost a query each. The board keeps
them per user while the user has a socket here, and forgets an entry the moment a membership of
that user changes:

- the process that made the change says so at once (``changed``, from the resolver, after the
  commit) and tells the others over the broadcast channel (``LiveEvents.access_changed``);
- a lost broadcast must not leave a removed agent at work here indefinitely, so every
  ``RECHECK_INTERVAL`` seconds the memberships of everyone holding a socket are read again
  (one statement per 500 users) and compared.

Each time fresh memberships are read, every socket of that user is told (``Holder.revise``):
one that lost a group (or a group's management) ends itself, subscriptions and presence with it.

The same route carries the two other ways a person's standing ends while they hold a socket: an
administrator deactivating them (``setUserActive``: the board reads whether the user is still
active with their memberships, and ends every socket of theirs) and the end of the browser
session their token was issued for (sign-out, or a refresh token reused: ``session_ended``, told
to the other processes as ``LiveEvents.session_ended``; the recheck reads which sessions of the
sockets here have ended, for a lost broadcast).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Iterable
from typing import Any, Final, Protocol

from casegraph.services.sign_in import ended_sessions
from casegraph.services.users import Memberships, read_actor_facts
from models import GroupMembership, User

log = logging.getLogger(__name__)

RECHECK_INTERVAL: Final = 5.0
CHUNK: Final = 500
DEACTIVATED: Final = "Your account was deactivated."
SESSION_ENDED: Final = "Your session has ended: sign in again."


class Holder(Protocol):
    """One authenticated socket, as the board sees it."""

    @property
    def user_id(self) -> str: ...

    @property
    def session(self) -> str | None:
        """The browser session the socket's token was issued for, if any."""

    def revise(self, memberships: Memberships) -> None:
        """The user's memberships as just read from the database."""

    def end(self, reason: str) -> None:
        """The user may no longer hold the socket: close it (4403) with ``reason``."""


def lost_access(before: Memberships, after: Memberships) -> bool:
    """Whether ``after`` takes away a group, or the management of one, that ``before`` had."""
    return bool(before[0] - after[0] or before[1] - after[1])


async def read_memberships_of(user_ids: Iterable[str]) -> dict[str, Memberships]:
    users = sorted(set(user_ids))
    groups: dict[str, set[int]] = {user: set() for user in users}
    managed: dict[str, set[int]] = {user: set() for user in users}
    for start in range(0, len(users), CHUNK):
        rows = await GroupMembership.filter(user_id__in=users[start : start + CHUNK]).values_list(
            "user_id", "group_id", "is_manager"
        )
        for user_id, group_id, is_manager in rows:
            groups[str(user_id)].add(int(group_id))
            if is_manager:
                managed[str(user_id)].add(int(group_id))
    return {user: (frozenset(groups[user]), frozenset(managed[user])) for user in users}


async def read_inactive(user_ids: Iterable[str]) -> set[str]:
    """Of ``user_ids``, those an administrator deactivated."""
    users = sorted(set(user_ids))
    inactive: set[str] = set()
    for start in range(0, len(users), CHUNK):
        rows = await User.filter(id__in=users[start : start + CHUNK], active=False).values_list("id", flat=True)
        inactive.update(str(user_id) for user_id in rows)
    return inactive


class AccessBoard:
    def __init__(self, *, recheck_interval: float = RECHECK_INTERVAL) -> None:
        self._holders: dict[str, set[Holder]] = {}
        self._by_session: dict[str, set[Holder]] = {}
        self._cache: dict[str, Memberships] = {}
        # Bumped by every change: a read that began before it must not refill the cache.
        self._epoch = 0
        self._recheck_interval = recheck_interval
        self._tasks: set[asyncio.Task[None]] = set()
        self._rechecker: asyncio.Task[None] | None = None

    @property
    def epoch(self) -> int:
        """Take it before reading memberships that ``join`` is to remember."""
        return self._epoch

    def join(self, holder: Holder, *, memberships: Memberships | None = None, read_at: int = -1) -> None:
        """Count ``holder`` in; ``memberships`` read at ``epoch`` ``read_at`` are remembered if still current
        (a socket's first operation then needs no read of its own)."""
        self._holders.setdefault(holder.user_id, set()).add(holder)
        if holder.session is not None:
            self._by_session.setdefault(holder.session, set()).add(holder)
        if memberships is not None and read_at == self._epoch:
            self._cache.setdefault(holder.user_id, memberships)

    def leave(self, holder: Holder) -> None:
        if holder.session is not None:
            same_session = self._by_session.get(holder.session)
            if same_session is not None:
                same_session.discard(holder)
                if not same_session:
                    del self._by_session[holder.session]
        holders = self._holders.get(holder.user_id)
        if holders is None:
            return
        holders.discard(holder)
        if not holders:
            del self._holders[holder.user_id]
            self._cache.pop(holder.user_id, None)

    async def memberships(self, user_id: str) -> Memberships | None:
        """The user's memberships now: from the cache, else one read (remembered while they hold a
        socket); None: the user is deactivated (never remembered)."""
        known = self._cache.get(user_id)
        if known is not None:
            return known
        epoch = self._epoch
        active, groups, managed = await read_actor_facts(user_id)
        if not active:
            return None
        fresh = (groups, managed)
        if epoch == self._epoch and user_id in self._holders:
            self._cache[user_id] = fresh
        return fresh

    def changed(self, user_id: str) -> None:
        """A membership of ``user_id`` changed (committed): forget it now, re-read and tell their sockets."""
        self._epoch += 1
        self._cache.pop(user_id, None)
        if user_id in self._holders:
            self._spawn(self._refresh([user_id]))

    def session_ended(self, session: str) -> None:
        """A browser session was ended (committed): every socket here opened with its tokens closes."""
        for holder in list(self._by_session.get(session, ())):
            holder.end(SESSION_ENDED)

    async def recheck(self) -> None:
        """Read everyone's standing again (the backstop for a lost broadcast). The two reads are
        independent: one failing (a database hiccup) does not hold the other back a round."""
        problems: list[Exception] = []
        for step in (self._recheck_sessions, self._recheck_users):
            try:
                await step()
            except Exception as problem:  # noqa: BLE001 - raised below, after the other step ran
                problems.append(problem)
        if problems:
            raise problems[0]

    async def _recheck_sessions(self) -> None:
        if self._by_session:
            for session in await ended_sessions(list(self._by_session)):
                self.session_ended(session)

    async def _recheck_users(self) -> None:
        if self._holders:
            await self._refresh(list(self._holders))

    async def _refresh(self, user_ids: list[str]) -> None:
        epoch = self._epoch
        fresh = await read_memberships_of(user_ids)
        inactive = await read_inactive(user_ids)
        for user_id, memberships in fresh.items():
            holders = self._holders.get(user_id)
            if not holders:
                continue
            if user_id in inactive:
                self._cache.pop(user_id, None)
                for holder in list(holders):
                    holder.end(DEACTIVATED)
                continue
            if epoch == self._epoch:
                self._cache[user_id] = memberships
            for holder in list(holders):
                holder.revise(memberships)

    def start(self) -> None:
        if self._rechecker is None:
            self._rechecker = asyncio.create_task(self._recheck_loop(), name="casegraph-access-recheck")

    async def stop(self) -> None:
        tasks = [*self._tasks, *([self._rechecker] if self._rechecker is not None else [])]
        self._rechecker = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _recheck_loop(self) -> None:
        while True:
            await asyncio.sleep(self._recheck_interval)
            try:
                await self.recheck()
            except Exception:  # a database hiccup: the next round reads again
                log.warning("could not re-read the memberships of connected users", exc_info=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("could not re-read changed memberships", exc_info=task.exception())
