"""Intake by staff (issue 19): registering a caller, and the result."""

from __future__ import annotations

import strawberry

from schema.inputs import IDEMPOTENCY_KEY
from schema.types.common import UserError
from schema.types.people import User


@strawberry.input(description="A caller to register: a name, and an e-mail address or a phone number (or both).")
class RegisterConstituentInput:
    name: str
    email: str | None = strawberry.field(default=None, description="Compared regardless of case.")
    phone: str | None = strawberry.field(default=None, description="Compared by its digits alone.")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(description="The registered caller, or the known one the address or number named.")
class RegisterConstituentPayload:
    user: User | None = None
    existing: bool = strawberry.field(
        default=False, description="true: the caller was known already (nothing was created or changed)."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)
