"""Intake by staff: ``registerConstituent`` and ``constituents``. The rules live in
``casegraph/services/constituents.py``."""

from __future__ import annotations

from casegraph.domain.constituents import new_constituent
from casegraph.domain.relations import Actor
from casegraph.services import constituents as rules
from resolvers.pipeline import refusals_as_errors, run_mutation
from schema.context import Info
from schema.payloads import refused
from schema.types.constituents import RegisterConstituentInput, RegisterConstituentPayload
from schema.types.people import User


async def register_constituent(info: Info, input: RegisterConstituentInput) -> RegisterConstituentPayload:
    now = info.context.clock()

    async def register(actor: Actor) -> rules.Registration:
        rules.require_intake_staff(actor, "register constituents")
        command = new_constituent(name=input.name, email=input.email, phone=input.phone)
        return await rules.register_constituent(
            actor=actor, command=command, now=now, idempotency_key=input.idempotency_key
        )

    return await run_mutation(
        info,
        refused=refused(RegisterConstituentPayload),
        call=register,
        done=lambda registration: RegisterConstituentPayload(
            user=User.from_row(registration.user), existing=registration.existing
        ),
    )


async def constituents(info: Info, search: str) -> list[User]:
    actor = info.context.require_actor()
    with refusals_as_errors():
        rows = await rules.find_constituents(actor=actor, text=search)
    return [User.from_row(row) for row in rows]
