"""What one WebSocket connection keeps for its lifetime, kept small.

A WebSocket's context lives as long as the connection, and Strawberry runs every operation on
the socket with it: a DataLoader kept there would cache for the whole connection (Strawberry's
dataloader guide), and operations running at once would share, and reset, each other's cache.
So no operation runs with the connection's context itself: each gets ``for_operation()``, a
copy with the actor as of its start and loaders of its own. And the many connections of one
person hold one ``Actor`` (``shared_actor``) — with its role and group sets — not one each.
"""

from __future__ import annotations

import copy
import dataclasses
import weakref
from typing import Any, Final, Protocol

from casegraph.domain.relations import Actor
from schema.context import Context


class OpenSession(Protocol):
    """What a connection asks of its session (``sessions.Session``), named here so that this
    module, which ``sessions`` builds on, does not import it back."""

    async def current_actor(self) -> Actor | None: ...

    def close(self) -> None: ...


_actors: Final[weakref.WeakValueDictionary[tuple[Any, ...], Actor]] = weakref.WeakValueDictionary()


def shared_actor(actor: Actor) -> Actor:
    """An equal actor already held by another connection, else ``actor`` (immutable: safe to share)."""
    key = tuple(getattr(actor, field.name) for field in dataclasses.fields(actor))
    return _actors.setdefault(key, actor)


class ConnectionContext(Context):
    # Set once connection_init authenticated the socket: its token's validity and memberships.
    session: OpenSession | None

    def __post_init__(self) -> None:
        self.session = None

    def for_operation(self) -> ConnectionContext:
        """The context one operation on the socket runs with: the connection's as it is now
        (actor, session), with loaders made for this operation alone, on first use."""
        operation = copy.copy(self)
        operation.forget_loaders()
        return operation


def operation_context(context: Context) -> Context:
    """What an operation on a socket runs with (both protocols' handlers): its own copy of the
    connection's context, so that it is neither served what another operation read nor resets
    their cache; any other context as it is."""
    return context.for_operation() if isinstance(context, ConnectionContext) else context
