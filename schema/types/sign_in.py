"""Asking for a sign-in link by mail (issue 17, "Sign-in without tokens")."""

from __future__ import annotations

import strawberry

from schema.types.common import UserError
from schema.types.people import User


@strawberry.input(description="The address to mail a sign-in link to.")
class RequestSignInLinkInput:
    email: str = strawberry.field(description="The person's e-mail address; an account is made on first sign-in.")


@strawberry.type(
    description="The same for every well-formed address, known here or not: a link is mailed if the "
    "address may receive one now (a few per 15 minutes), valid once for 15 minutes."
)
class RequestSignInLinkPayload:
    accepted: bool = strawberry.field(default=False, description="true: the request was taken (not: a mail exists).")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="Whom to deactivate (or activate again).")
class SetUserActiveInput:
    user_id: strawberry.ID
    active: bool = strawberry.field(
        description="false: their tokens are refused and their browser sessions end; true: they may sign in again."
    )


@strawberry.type(description="The user after the change, and how many of their session tokens were revoked.")
class SetUserActivePayload:
    user: User | None = None
    revoked_sessions: int = 0
    errors: list[UserError] = strawberry.field(default_factory=list)
