"""What one WebSocket connection keeps for its lifetime, kept small.

A WebSocket's context lives as long as the connection. A followed subscription never uses its
loaders (each execution makes its own), so ``ConnectionContext`` makes the ``Loaders`` only when
an operation on the socket first asks for them. And the many connections of one person hold one
``Actor`` (``shared_actor``) — with its role and group sets — not one each.
"""

from __future__ import annotations

import dataclasses
import weakref
from typing import Any, Final, Protocol

from casegraph.domain.relations import Actor
from resolvers.loaders import Loaders
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
    _built: Loaders | None
    # Set once connection_init authenticated the socket: its token's validity and memberships.
    session: OpenSession | None

    def __post_init__(self) -> None:
        self._built = None
        self.session = None

    @property
    def loaders(self) -> Loaders:
        if self._built is None:
            self._built = Loaders(self.actor)
        return self._built

    @loaders.setter
    def loaders(self, value: Loaders) -> None:
        self._built = value

    def forget_loaders(self) -> None:
        """The actor changed (authentication): loaders are made again, for it, on first use."""
        self._built = None
