"""Presence's value: someone with a case open now."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from casegraph.events.presence import Viewer
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
