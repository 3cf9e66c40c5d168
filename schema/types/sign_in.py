"""Asking for a sign-in link by mail (issue 17, "Sign-in without tokens")."""

from __future__ import annotations

import strawberry

from schema.types.common import UserError


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
