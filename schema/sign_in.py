"""Sign-in by mailed link over GraphQL, resolved by ``resolvers/sign_in.py``; the types are
``schema/types/sign_in.py``. ``requestSignInLink`` is the only root field an anonymous caller may
use (AuthenticationGate); ``setUserActive`` ends a user's sessions."""

from __future__ import annotations

import strawberry

from resolvers import sign_in
from schema.context import Info
from schema.types.sign_in import (
    RequestSignInLinkInput,
    RequestSignInLinkPayload,
    SetUserActiveInput,
    SetUserActivePayload,
)


@strawberry.type
class SignInMutation:
    @strawberry.mutation(
        description="Mail a single-use sign-in link (valid 15 minutes) to the address. Needs no token; "
        "answers the same whether or not the address is known."
    )
    async def request_sign_in_link(self, info: Info, input: RequestSignInLinkInput) -> RequestSignInLinkPayload:
        return await sign_in.request_sign_in_link(info, input)

    @strawberry.mutation(
        description="ADMIN: deactivate a user (their tokens are refused, their browser sessions revoked, "
        "mailed links sign them in no more) or activate them again."
    )
    async def set_user_active(self, info: Info, input: SetUserActiveInput) -> SetUserActivePayload:
        return await sign_in.set_user_active(info, input)
