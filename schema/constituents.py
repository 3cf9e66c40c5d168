"""Intake by staff (issue 19) over GraphQL, resolved by ``resolvers/constituents.py``; the types
are ``schema/types/constituents.py``. ``createCase`` files the caller's case (``requesterId``,
``channel``)."""

from __future__ import annotations

import strawberry

from resolvers import constituents
from schema.context import Info
from schema.types.constituents import RegisterConstituentInput, RegisterConstituentPayload
from schema.types.people import User


@strawberry.type
class ConstituentQuery:
    @strawberry.field(
        description="Known constituents whose name, e-mail address or phone number starts with `search` "
        "(at least 2 characters; at most 20, by name). Agents, managers and administrators only."
    )
    async def constituents(self, info: Info, search: str) -> list[User]:
        return await constituents.constituents(info, search)


@strawberry.type
class ConstituentMutation:
    @strawberry.mutation(
        description="Register a caller who has never signed in (agents, managers, administrators). A known "
        "address or number returns that constituent (`existing`)."
    )
    async def register_constituent(self, info: Info, input: RegisterConstituentInput) -> RegisterConstituentPayload:
        return await constituents.register_constituent(info, input)
