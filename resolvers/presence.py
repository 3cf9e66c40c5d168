"""Presence: ``casePresence`` (being present on a case while subscribed) and ``setEditing``.

Over graphql-transport-ws the subscriber is handed to the registration on offer and the
generator ends without yielding (see ``resolvers/subscriptions.py``); elsewhere it is iterated here.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator

from graphql import GraphQLError

from casegraph.domain.relations import Actor
from casegraph.events.feed import check_case_visible
from casegraph.events.live import LiveEvents
from casegraph.events.presence import Viewer, present
from casegraph.fanout.registration import PresenceSpec, live_registration
from resolvers.loaders import Loaders
from resolvers.pipeline import refusals_as_errors
from schema.context import Info
from schema.types.presence import CaseViewer


def _live(info: Info) -> LiveEvents:
    live = info.context.live
    if live is None:
        raise GraphQLError("Live events are not running on this server.", extensions={"code": "UNAVAILABLE"})
    return live


async def case_presence(info: Info, case_id: str, editing: bool) -> AsyncGenerator[list[CaseViewer], None]:
    actor = info.context.require_actor()
    live = _live(info)
    with refusals_as_errors():
        await check_case_visible(actor, case_id)
    registration = live_registration()
    if registration is not None:
        # Over a WebSocket: one stream per case serves all its viewers here (casegraph/fanout/streams.py).
        registration.share(spec=presence_spec(live, case_id, actor, editing=editing), info=info)
        return
    async with present(
        live.presence,
        live.announce,
        case_id=case_id,
        key=uuid.uuid4().hex,
        user_id=actor.user_id,
        name=actor.name,
        editing=editing,
    ):
        async for viewers in live.presence.watch(case_id):
            info.context.loaders = Loaders(actor)
            yield case_viewers(viewers)


def case_viewers(viewers: list[Viewer]) -> list[CaseViewer]:
    return [CaseViewer.from_viewer(v) for v in viewers]


def presence_spec(live: LiveEvents, case_id: str, actor: Actor, *, editing: bool) -> PresenceSpec:
    """What a followed ``casePresence`` subscriber is: who, on which case, and its value's objects."""
    return PresenceSpec(
        live=live,
        case_id=case_id,
        user_id=actor.user_id,
        name=actor.name,
        editing=editing,
        render=case_viewers,
    )


async def set_editing(info: Info, case_id: str, editing: bool) -> bool:
    actor = info.context.require_actor()
    live = _live(info)
    with refusals_as_errors():
        await check_case_visible(actor, case_id)
    await live.announce({"op": "editing", "case": case_id, "user": actor.user_id, "editing": editing})
    return True
