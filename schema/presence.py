"""Presence: who else has a case open right now, and whether they are editing it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from datetime import UTC, datetime

import strawberry
from graphql import GraphQLError

from casegraph.domain.relations import Actor
from casegraph.events.feed import check_case_visible
from casegraph.events.live import LiveEvents
from casegraph.events.presence import Viewer, present
from casegraph.fanout.registration import PresenceSpec, live_registration
from resolvers.loaders import Loaders
from resolvers.pipeline import refusals_as_errors
from schema.context import Info
from schema.types.people import User, _user


@strawberry.type(description="Someone with the case open now.")
class CaseViewer:
    editing: bool
    since: datetime
    _user_id: strawberry.Private[str]
    _name: strawberry.Private[str | None]

    @strawberry.field
    async def user(self, info: Info) -> User:
        user = await _user(info, self._user_id)
        return user or User(id=strawberry.ID(self._user_id), name=self._name, roles=[], agency=None, _email=None)

    @classmethod
    def from_viewer(cls, viewer: Viewer) -> CaseViewer:
        return cls(
            editing=viewer.editing,
            since=datetime.fromtimestamp(viewer.since, UTC),
            _user_id=viewer.user_id,
            _name=viewer.name,
        )


def _live(info: Info) -> LiveEvents:
    live = info.context.live
    if live is None:
        raise GraphQLError("Live events are not running on this server.", extensions={"code": "UNAVAILABLE"})
    return live


@strawberry.type
class PresenceSubscription:
    @strawberry.subscription(
        description="Be present on a case while subscribed, and receive everyone present (you included) "
        "whenever that changes. Entries expire within 30 s of a client or server going away."
    )
    async def case_presence(
        self, info: Info, case_id: strawberry.ID, editing: bool = False
    ) -> AsyncGenerator[list[CaseViewer], None]:
        actor = info.context.require_actor()
        live = _live(info)
        with refusals_as_errors():
            await check_case_visible(actor, str(case_id))
        registration = live_registration()
        if registration is not None:
            # Over a WebSocket: one stream per case serves all its viewers here (casegraph/fanout/streams.py).
            registration.share(spec=presence_spec(live, str(case_id), actor, editing=editing), info=info)
            return
        async with present(
            live.presence,
            live.announce,
            case_id=str(case_id),
            key=uuid.uuid4().hex,
            user_id=actor.user_id,
            name=actor.name,
            editing=editing,
        ):
            async for viewers in live.presence.watch(str(case_id)):
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


@strawberry.type
class PresenceMutation:
    @strawberry.mutation(description="Say you started or stopped editing a case you have open (see casePresence).")
    async def set_editing(self, info: Info, case_id: strawberry.ID, editing: bool) -> bool:
        actor = info.context.require_actor()
        live = _live(info)
        with refusals_as_errors():
            await check_case_visible(actor, str(case_id))
        await live.announce({"op": "editing", "case": str(case_id), "user": actor.user_id, "editing": editing})
        return True
