"""``requestSignInLink``: the one mutation that needs no token. The rules live in
``casegraph/services/sign_in.py``; opening the link is a page (casegraph/sign_in_pages.py)."""

from __future__ import annotations

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response

from casegraph.client_address import UNKNOWN, client_address
from casegraph.domain.errors import DomainError
from casegraph.rate_limits import RATE_LIMITED
from casegraph.services import sign_in as rules
from schema.context import Info
from schema.payloads import user_errors
from schema.types.sign_in import RequestSignInLinkInput, RequestSignInLinkPayload


async def request_sign_in_link(info: Info, input: RequestSignInLinkInput) -> RequestSignInLinkPayload:
    context = info.context
    request = context.request if isinstance(context.request, Request) else None
    if context.mail_signing_secret is None:
        raise RuntimeError("The context has no mail signing secret: sign-in links cannot be made.")
    try:
        await rules.request_sign_in_link(
            email=input.email,
            client=client_address(request.client) if request is not None else UNKNOWN,
            locale=rules.mail_locale(request.headers.get("accept-language") if request is not None else None),
            now=context.clock(),
            signing_secret=context.mail_signing_secret,
        )
    except DomainError as refusal:
        return RequestSignInLinkPayload(errors=user_errors(refusal))
    except rules.SignInThrottled as throttled:
        if isinstance(context.response, Response):
            context.response.headers["Retry-After"] = str(throttled.retry_after)
        raise GraphQLError(
            str(throttled), extensions={"code": RATE_LIMITED, "retryAfter": throttled.retry_after}
        ) from None
    return RequestSignInLinkPayload(accepted=True)
