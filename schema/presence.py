"""Presence: who else has a case open right now, and whether they are editing it, resolved by
``resolvers/presence.py``; the value's type is ``schema/types/presence.py``."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import strawberry

from resolvers import presence
from schema.context import Info
from schema.types.presence import CaseViewer


@strawberry.type
class PresenceSubscription:
    @strawberry.subscription(
        description="Be present on a case while subscribed, and receive everyone present (you included) "
        "whenever that changes. Entries expire within 30 s of a client or server going away."
    )
    async def case_presence(
        self, info: Info, case_id: strawberry.ID, editing: bool = False
    ) -> AsyncGenerator[list[CaseViewer], None]:
        # Closed with this generator, not later by the garbage collector: leaving the case is
        # announced as soon as the subscriber goes.
        async with aclosing(presence.case_presence(info, str(case_id), editing)) as stream:
            async for viewers in stream:
                yield viewers


@strawberry.type
class PresenceMutation:
    @strawberry.mutation(description="Say you started or stopped editing a case you have open (see casePresence).")
    async def set_editing(self, info: Info, case_id: strawberry.ID, editing: bool) -> bool:
        return await presence.set_editing(info, str(case_id), editing)
