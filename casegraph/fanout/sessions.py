"""A WebSocket is only as good as its token and its memberships (issue 14 §1).

The token is checked at ``connection_init``; a ``Session`` then carries what it established for
the connection's lifetime and keeps it honest:

- every operation (query, mutation, subscription; both protocols) first asks ``current_actor``:
  the token's roles with the user's group memberships as they are now (``AccessBoard``: cached
  per user, forgotten when a membership changes), exactly what an HTTP request would get;
- when the token stops being valid (its ``exp`` plus the verifier's leeway, as over HTTP) a
  timer closes the socket with 4403, ending its subscriptions, and an operation that arrives
  before the close is done is not run; the client reconnects with a fresh token and resumes
  its subscriptions with ``after``;
- when the user loses a group, or the management of one, the socket is closed with 4403 too:
  its subscriptions end (their authorization was decided with the old memberships), presence
  announces the user gone, and whatever the client subscribes to again is decided afresh.
  A group gained only widens what the next operation may do; nothing is closed.

- when an administrator deactivates the user (``setUserActive``), or the browser session the
  token was issued for ends (sign-out, a reused refresh token), the socket is closed with 4403
  at once, here and on every other process (the board hears of it as of a membership change;
  ``casegraph/events/access.py``), and an operation that arrives meanwhile finds the user
  deactivated (read with the memberships) and is not run.

Roles come from the token, so they change with the next token (at the latest at expiry).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Final

from strawberry.subscriptions.protocols.graphql_ws.types import StartMessage

from casegraph.domain.relations import Actor
from casegraph.events.access import DEACTIVATED, AccessBoard, lost_access
from casegraph.fanout.connection_context import ConnectionContext, shared_actor
from casegraph.fanout.legacy_ws import LiveLegacyWSHandler
from casegraph.services.users import Memberships, read_actor_facts

FORBIDDEN: Final = 4403
TOKEN_EXPIRED: Final = "The token has expired: reconnect with a fresh one."
ACCESS_CHANGED: Final = "Your group memberships changed: reconnect."

Closer = Callable[[int, str], Awaitable[None]]


class Session:
    """One authenticated WebSocket connection: its token's actor, validity and current memberships."""

    __slots__ = (
        "token_actor",
        "valid_until",
        "session",
        "memberships",
        "actor",
        "ended",
        "_closer",
        "_board",
        "_timer",
        "_wall",
        "__weakref__",
    )

    def __init__(
        self,
        *,
        token_actor: Actor,
        valid_until: float | None,
        closer: Closer,
        board: AccessBoard | None,
        read_at: int = -1,
        wall: Callable[[], float] = time.time,
        session: str | None = None,
    ) -> None:
        """``read_at``: the board's epoch before ``token_actor``'s memberships were read;
        ``session``: the browser session the token was issued for (its ``sid``)."""
        self.token_actor = token_actor
        self.valid_until = valid_until
        self.session = session
        self.memberships: Memberships = (token_actor.group_ids, token_actor.managed_group_ids)
        self.actor = token_actor
        self.ended = False
        self._closer = closer
        self._board = board
        self._wall = wall
        self._timer: asyncio.TimerHandle | None = None
        if valid_until is not None:
            delay = max(0.0, valid_until - wall())
            self._timer = asyncio.get_running_loop().call_later(delay, self.end, TOKEN_EXPIRED)
        if board is not None:
            board.join(self, memberships=self.memberships, read_at=read_at)

    @property
    def user_id(self) -> str:
        return self.token_actor.user_id

    @property
    def expired(self) -> bool:
        return self.valid_until is not None and self._wall() >= self.valid_until

    async def current_actor(self) -> Actor | None:
        """The actor an operation runs as now; None when the socket is closing (nothing may run)."""
        if self.ended:
            return None
        if self.expired:
            self.end(TOKEN_EXPIRED)
            return None
        memberships = await (
            self._board.memberships(self.user_id) if self._board is not None else _read_standing(self.user_id)
        )
        if memberships is None:
            self.end(DEACTIVATED)
            return None
        self.revise(memberships)
        return None if self.ended else self.actor

    def revise(self, memberships: Memberships) -> None:
        """Fresh memberships: a loss ends the connection, a gain becomes the actor's."""
        if self.ended or memberships == self.memberships:
            return
        if lost_access(self.memberships, memberships):
            self.end(ACCESS_CHANGED)
            return
        self.memberships = memberships
        self.actor = shared_actor(replace(self.token_actor, group_ids=memberships[0], managed_group_ids=memberships[1]))

    def end(self, reason: str) -> None:
        """Close the socket with 4403 and ``reason`` (once); the handler's shutdown ends its operations."""
        if self.ended:
            return
        self.close()
        task = asyncio.ensure_future(self._close_socket(reason))
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    async def _close_socket(self, reason: str) -> None:
        with contextlib.suppress(Exception):  # already closed by the client: nothing to end
            await self._closer(FORBIDDEN, reason)

    def close(self) -> None:
        """The connection is over (or closing): no timer, no place on the board."""
        self.ended = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._board is not None:
            self._board.leave(self)
            self._board = None


async def _read_standing(user_id: str) -> Memberships | None:
    """Without a board: the user's memberships, or None when they are deactivated."""
    active, groups, managed = await read_actor_facts(user_id)
    return (groups, managed) if active else None


# Closing tasks in flight (the event loop keeps only weak references to tasks).
_closing: set[asyncio.Future[None]] = set()


class SessionGuard:
    """For both protocols' handlers: re-authorize before each operation, end the session at the end."""

    context: Any

    async def reauthorized(self) -> bool:
        """Make the connection's context the actor's as of now; False (socket closing) to run nothing."""
        context = self.context
        session = context.session if isinstance(context, ConnectionContext) else None
        if session is None:
            return True  # not authenticated yet: the protocol refuses the operation itself
        actor = await session.current_actor()
        if actor is None:
            return False
        if actor is not context.actor:
            context.actor = actor
        return True

    async def handle(self) -> None:
        try:
            await super().handle()  # type: ignore[misc]
        finally:
            context = self.context
            if isinstance(context, ConnectionContext) and context.session is not None:
                context.session.close()


class GuardedLegacyWSHandler(SessionGuard, LiveLegacyWSHandler):
    """The legacy graphql-ws protocol (subscriptions followed), each ``start`` re-authorized."""

    async def handle_start(self, message: StartMessage) -> None:
        if self.connection_acknowledged and not await self.reauthorized():
            return
        await super().handle_start(message)
