"""Which facts about the viewer one execution read, and so who else may share its result.

A subscription's payload depends on the viewer only through the context: ``actor`` (and
``require_actor``), ``sees_internal``, the loaders (built from the actor) and the connection's
own objects. The execution runs with a ``RecordingContext`` that notes each such read:

- nothing — every subscriber of the plan who was sent the event gets the same result;
- ``STAFF`` (``sees_internal`` only) — those on the same side of the staff line;
- ``ACTOR`` — those with an identical actor: user id, token roles, agency, name, e-mail and
  group memberships as the hub read them for this event;
- ``CONNECTION`` (the request, connection parameters, or any attribute this module does not
  know) — nobody else.

Why this is exact: executions with equal inputs take equal paths. If one execution read only
facts that another subscriber has equal, that subscriber's execution (same document, same
event, same database, same moment) would read the same facts at the same points and produce the
same result. A new context attribute is treated as ``CONNECTION`` until it is listed here, so
the default when in doubt is not to share. (Resolvers have no other way to the viewer: the
request scope's context variables carry the connection's request id for logs and the event log,
which payload fields do not read.)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from enum import IntFlag
from typing import Any, Final, cast

from casegraph.domain.relations import Actor
from resolvers.loaders import Loaders
from schema.context import Context


class Reads(IntFlag):
    NOTHING = 0
    STAFF = 1
    ACTOR = 2
    CONNECTION = 4


# Context attributes every subscriber of a server has alike (or that record reads themselves).
_NEUTRAL: Final = frozenset(
    {
        "clock",
        "publisher",
        "live",
        "max_page_size",
        "over_websocket",
        "webhooks_may_target_private",
        "reply_addresses",
        "loaders",
        "_loaders",
        "require_actor",
        "sees_internal",
        "reads",
        "note",
        "_reads",
        "__class__",
        "__post_init__",
    }
)
_ACTOR: Final = frozenset({"actor", "auth_error"})


def _sees_internal() -> Callable[[Any], bool]:
    getter = cast(property, Context.__dict__["sees_internal"]).fget
    assert getter is not None
    return getter


_SEES_INTERNAL: Final = _sees_internal()


class _Viewer:
    """The one attribute ``Context.sees_internal`` reads, for judging other actors by it."""

    __slots__ = ("actor",)

    def __init__(self, actor: Actor | None) -> None:
        self.actor = actor


def staff_view(actor: Actor | None) -> bool:
    """What ``Context.sees_internal`` says for ``actor``: the property itself, run on a probe."""
    return bool(_SEES_INTERNAL(_Viewer(actor)))


class RecordingContext(Context):
    """A subscriber's context for one execution, noting each read of viewer facts."""

    _reads: Reads

    def __post_init__(self) -> None:
        object.__setattr__(self, "_reads", Reads.NOTHING)
        self.loaders = RecordingLoaders(object.__getattribute__(self, "actor"), recorder=self)

    def __getattribute__(self, name: str) -> Any:
        if name not in _NEUTRAL:
            kind = Reads.ACTOR if name in _ACTOR else Reads.CONNECTION
            object.__setattr__(self, "_reads", object.__getattribute__(self, "_reads") | kind)
        return object.__getattribute__(self, name)

    @property
    def sees_internal(self) -> bool:
        self.note(Reads.STAFF)
        try:
            return staff_view(object.__getattribute__(self, "actor"))
        except AttributeError:  # the property now reads more than the actor: judge it by everything
            self.note(Reads.CONNECTION)
            return bool(_SEES_INTERNAL(self))

    def note(self, kind: Reads) -> None:
        object.__setattr__(self, "_reads", object.__getattribute__(self, "_reads") | kind)

    @property
    def reads(self) -> Reads:
        reads: Reads = object.__getattribute__(self, "_reads")
        return reads


class RecordingLoaders(Loaders):
    """The request's loaders; reading the actor they were built for is a read of the viewer."""

    def __init__(self, actor: Actor | None, *, recorder: RecordingContext) -> None:
        object.__setattr__(self, "_recorder", recorder)
        super().__init__(actor)

    def __getattribute__(self, name: str) -> Any:
        if name == "actor" or name == "__dict__":
            object.__getattribute__(self, "_recorder").note(Reads.ACTOR)
        return object.__getattribute__(self, name)


def recording_context(connection: Context, actor: Actor) -> RecordingContext:
    """The connection's context for one execution as ``actor`` (memberships as of this event)."""
    values = {
        field.name: object.__getattribute__(connection, field.name)
        for field in dataclasses.fields(Context)
        if field.init and field.name != "actor"
    }
    return RecordingContext(actor=actor, **values)


def shares(reads: Reads, actor: Actor, other: Actor) -> bool:
    """May a subscriber acting as ``other`` take the result of an execution as ``actor``?"""
    if reads & Reads.CONNECTION:
        return False
    if reads & Reads.ACTOR:
        return other == actor
    if reads & Reads.STAFF:
        return staff_view(other) == staff_view(actor)
    return True
