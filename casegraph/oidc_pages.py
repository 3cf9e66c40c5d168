"""Sign-in with the agency's OpenID provider: the authorization code flow with PKCE, run by the
server (rules: services/oidc_sign_in.py; the provider's side: oidc_client.py).

``GET /auth/oidc/start?next=/portal`` writes a flow (state, nonce, PKCE verifier), gives the
browser a random key for it in an HttpOnly cookie, and sends the browser to the provider.
``GET /auth/oidc/callback`` uses the flow once (same state, same browser, in time), trades the
code for tokens itself (no provider token ever reaches a page script), checks the ID token, and
starts the same browser session a mailed sign-in link does: a refresh cookie, then the page
``next`` named (a path on this site only). Everything that goes wrong ends on a short page in
the reader's language (from the pages' catalogues, by Accept-Language: casegraph/pages) with a way back, never a trace.

The flow cookie is SameSite=Lax, not Strict: the provider's redirect back is a navigation from
another site, and a Strict cookie would not come with it.

``GET /auth/config`` tells the pages what sign-in they can offer (the provider's name).
"""

from __future__ import annotations

import logging
from html import escape
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from casegraph.client_address import client_address
from casegraph.oidc_client import IdTokenRefused, OidcClient, ProviderError
from casegraph.pages import link, page, paragraph, reader_texts
from casegraph.runtime import Runtime
from casegraph.services.oidc_sign_in import (
    FLOW_LIFETIME,
    FlowRefused,
    FlowThrottled,
    claim_flow,
    identity_of,
    safe_next,
    sign_in_with_identity,
    start_flow,
)
from casegraph.services.sign_in import SignInRefused
from casegraph.settings import OidcProvider, Settings
from casegraph.sign_in_pages import PORTAL, SESSION_PATH, set_session_cookies

log = logging.getLogger(__name__)

OIDC_PATH: Final = f"{SESSION_PATH}/oidc"
START_PATH: Final = f"{OIDC_PATH}/start"
CALLBACK_PATH: Final = f"{OIDC_PATH}/callback"
CONFIG_PATH: Final = f"{SESSION_PATH}/config"
FLOW_COOKIE: Final = "casegraph_oidc"
MAX_PARAMETER: Final = 2048


# A sign-in that goes wrong ends on a page: ``oidc.<reason>.title``/``.text`` of the pages' catalogues.
def problem_page(
    request: Request, settings: Settings, provider: OidcProvider, reason: str, *, status: int, back: str = PORTAL
) -> Response:
    texts = reader_texts(request, settings.mail_templates)
    values = {"provider": provider.name}
    body = paragraph(texts.text(f"oidc.{reason}.text", values)) + link(back, texts.text("oidc.again", values))
    attributes = f' data-testid="oidc-problem" data-reason="{escape(reason)}"'
    response = page(texts, texts.text(f"oidc.{reason}.title", values), body, status=status, attributes=attributes)
    _forget_flow_cookie(response, request)
    return response


def _secure(settings: Settings) -> bool:
    return settings.public_url.startswith("https://")


def _forget_flow_cookie(response: Response, request: Request) -> None:
    if FLOW_COOKIE in request.cookies:
        response.delete_cookie(FLOW_COOKIE, path=OIDC_PATH, httponly=True, samesite="lax")


def oidc_routes(runtime: Runtime) -> list[BaseRoute]:
    """The sign-in config for the pages, and the flow's two ends when a provider is configured."""
    provider = runtime.settings.oidc
    routes: list[BaseRoute] = [Route(CONFIG_PATH, config_endpoint(provider), methods=["GET"])]
    if provider is None:
        return routes
    client = OidcClient(provider, redirect_uri=f"{runtime.settings.public_url}{CALLBACK_PATH}")
    return [
        *routes,
        Route(START_PATH, start_endpoint(runtime, client), methods=["GET"]),
        Route(CALLBACK_PATH, callback_endpoint(runtime, client), methods=["GET"]),
    ]


def config_endpoint(provider: OidcProvider | None) -> Any:
    body = {"oidc": None if provider is None else {"name": provider.name, "start": START_PATH}}

    async def config(request: Request) -> Response:
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    return config


def start_endpoint(runtime: Runtime, client: OidcClient) -> Any:
    provider = client.provider

    async def start(request: Request) -> Response:
        next_path = safe_next(request.query_params.get("next"))
        try:
            metadata = await client.metadata()
        except ProviderError as problem:
            log.warning("OIDC discovery failed: %s", problem)
            return problem_page(request, runtime.settings, provider, "unreachable", status=502, back=next_path)
        try:
            flow = await start_flow(next_path=next_path, client=client_address(request.client), now=runtime.clock())
        except FlowThrottled as throttled:
            response = problem_page(request, runtime.settings, provider, "throttled", status=429, back=next_path)
            response.headers["Retry-After"] = str(throttled.retry_after)
            return response
        location = client.authorization_url(
            metadata, state=flow.state, nonce=flow.nonce, code_challenge=flow.code_challenge
        )
        response = RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})
        response.set_cookie(
            FLOW_COOKIE,
            flow.browser_key,
            max_age=int(FLOW_LIFETIME.total_seconds()),
            path=OIDC_PATH,
            secure=_secure(runtime.settings),
            httponly=True,
            samesite="lax",
        )
        return response

    return start


def callback_endpoint(runtime: Runtime, client: OidcClient) -> Any:
    provider = client.provider

    async def callback(request: Request) -> Response:
        params = request.query_params
        state, code, error = params.get("state", ""), params.get("code", ""), params.get("error")
        if error is not None:
            # access_denied (the person said no), login_required, …: nobody signed in. The flow is
            # used up, and the way back leads to the page it started from (portal or dashboard).
            log.info("OIDC provider answered error=%s", error[:100])
            back = PORTAL
            if state and len(state) <= MAX_PARAMETER:
                try:
                    cookie = request.cookies.get(FLOW_COOKIE)
                    back = (await claim_flow(state=state, browser_key=cookie, now=runtime.clock())).next_path
                except FlowRefused:
                    pass
            return problem_page(request, runtime.settings, provider, "denied", status=400, back=back)
        if not state or not code or len(state) > MAX_PARAMETER or len(code) > MAX_PARAMETER:
            return problem_page(request, runtime.settings, provider, "expired", status=400)
        issuer = params.get("iss")
        if issuer is not None and issuer != provider.issuer:
            # RFC 9207: an answer from another provider (a mix-up attack) is not ours to use.
            log.warning("OIDC callback from issuer %r, not the one configured", issuer[:200])
            return problem_page(request, runtime.settings, provider, "unconfirmed", status=400)
        try:
            flow = await claim_flow(state=state, browser_key=request.cookies.get(FLOW_COOKIE), now=runtime.clock())
        except FlowRefused:
            return problem_page(request, runtime.settings, provider, "expired", status=400)
        try:
            answer = await client.exchange(code, verifier=flow.verifier)
            claims = await client.identity_claims(answer, nonce=flow.nonce)
            identity = identity_of(
                claims, issuer=provider.issuer, roles_claim=provider.roles_claim, role_map=provider.role_map
            )
        except ProviderError as problem:
            log.warning("OIDC sign-in failed at the provider: %s", problem)
            return problem_page(request, runtime.settings, provider, "unreachable", status=502, back=flow.next_path)
        except (IdTokenRefused, SignInRefused) as refused:
            log.warning("OIDC ID token refused: %s", refused)
            return problem_page(request, runtime.settings, provider, "unconfirmed", status=400, back=flow.next_path)
        try:
            signed_in = await sign_in_with_identity(identity, now=runtime.clock())
        except SignInRefused:
            return problem_page(request, runtime.settings, provider, "deactivated", status=403, back=flow.next_path)
        response = RedirectResponse(flow.next_path, status_code=303, headers={"Cache-Control": "no-store"})
        set_session_cookies(response, runtime.settings, signed_in, now=runtime.clock())
        _forget_flow_cookie(response, request)
        return response

    return callback
