"""``requestSignInLink``, the one mutation that needs no token, and ``setUserActive``, which ends a
user's sessions. The rules live in ``casegraph/services/sign_in.py``; opening the link is a page
(casegraph/sign_in_pages.py)."""

from __future__ import annotations

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response

from casegraph.client_address import UNKNOWN, client_address
from casegraph.rate_limits import RATE_LIMITED
from casegraph.services import sign_in as rules
from models import User as UserRow
from resolvers.pipeline import run_anonymous_mutation, run_mutation
from schema.context import Info
from schema.payloads import refused
from schema.types.people import User
from schema.types.sign_in import (
    RequestSignInLinkInput,
    RequestSignInLinkPayload,
    SetUserActiveInput,
    SetUserActivePayload,
)


async def request_sign_in_link(info: Info, input: RequestSignInLinkInput) -> RequestSignInLinkPayload:
    context = info.context
    request = context.request if isinstance(context.request, Request) else None
    secret = context.mail_signing_secret
    if secret is None:
        raise RuntimeError("The context has no mail signing secret: sign-in links cannot be made.")

    async def ask() -> None:
        try:
            await rules.request_sign_in_link(
                email=input.email,
                client=client_address(request.client) if request is not None else UNKNOWN,
                locale=rules.mail_locale(request.headers.get("accept-language") if request is not None else None),
                now=context.clock(),
                signing_secret=secret,
            )
        except rules.SignInThrottled as throttled:
            # The limiter's refusal (a top-level error with the seconds to wait), not a payload error.
            if isinstance(context.response, Response):
                context.response.headers["Retry-After"] = str(throttled.retry_after)
            raise GraphQLError(
                str(throttled), extensions={"code": RATE_LIMITED, "retryAfter": throttled.retry_after}
            ) from None

    return await run_anonymous_mutation(
        info,
        refused=refused(RequestSignInLinkPayload),
        call=ask,
        done=lambda _: RequestSignInLinkPayload(accepted=True),
    )


async def set_user_active(info: Info, input: SetUserActiveInput) -> SetUserActivePayload:
    async def payload(changed: tuple[UserRow, int]) -> SetUserActivePayload:
        row, revoked = changed
        # After the commit: the user's open sockets, here and on every process, re-read whether
        # they are active (casegraph/events/access.py) and a deactivated user's close.
        live = info.context.live
        if live is not None:
            await live.access_changed(row.id)
        return SetUserActivePayload(user=User.from_row(row), revoked_sessions=revoked)

    return await run_mutation(
        info,
        refused=refused(SetUserActivePayload),
        call=lambda actor: rules.set_user_active(
            actor=actor, user_id=str(input.user_id), active=input.active, now=info.context.clock()
        ),
        done=payload,
    )
