"""Who is asking, on every transport: one check shared by the GraphQL view (HTTP and sockets) and
the download route, so none of them can forget a part of it.

A bearer token counts only while the browser session it was issued for lasts (signing out ends
its use everywhere at once, not when the token expires), and only for a user who is still active;
the actor carries the user's memberships as they are now.
"""

from __future__ import annotations

from casegraph.auth import AuthError
from casegraph.domain.relations import Actor
from casegraph.runtime import Runtime
from casegraph.services.sign_in import session_alive
from casegraph.services.users import Claims, UserDeactivated, build_actor, provision

SESSION_ENDED = "The session has ended: sign in again."
DEACTIVATED = "This account is deactivated."


async def actor_of(runtime: Runtime, claims: Claims, *, from_token: bool = True) -> Actor:
    """The actor ``claims`` stand for now; AuthError when their session has ended or the user is
    deactivated. ``from_token``: the claims come from a token the user's row is refreshed from
    (api.md *Authentication*); claims read from the row itself refresh nothing."""
    if claims.session is not None and not await session_alive(claims.session):
        raise AuthError(SESSION_ENDED)
    if from_token:
        await provision(claims=claims, now=runtime.clock())
    try:
        return await build_actor(claims, refuse_deactivated=True)
    except UserDeactivated:
        raise AuthError(DEACTIVATED) from None
