"""Sign-in with the agency's OpenID provider: the authorization code flow with PKCE, run by the
server (rules: services/oidc_sign_in.py; the provider's side: oidc_client.py).

``GET /auth/oidc/start?next=/portal`` writes a flow (state, nonce, PKCE verifier), gives the
browser a random key for it in an HttpOnly cookie, and sends the browser to the provider.
``GET /auth/oidc/callback`` uses the flow once (same state, same browser, in time), trades the
code for tokens itself (no provider token ever reaches a page script), checks the ID token, and
starts the same browser session a mailed sign-in link does: a refresh cookie, then the page
``next`` named (a path on this site only). Everything that goes wrong ends on a short page in
the reader's language (English or Spanish, from Accept-Language) with a way back, never a trace.

The flow cookie is SameSite=Lax, not Strict: the provider's redirect back is a navigation from
another site, and a Strict cookie would not come with it.

``GET /auth/config`` tells the pages what sign-in they can offer (the provider's name).
"""

from __future__ import annotations

import logging
from html import escape
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from casegraph.client_address import client_address
from casegraph.oidc_client import IdTokenRefused, OidcClient, ProviderError
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
from casegraph.sign_in_pages import PORTAL, SESSION_PATH, set_refresh_cookie

log = logging.getLogger(__name__)

OIDC_PATH: Final = f"{SESSION_PATH}/oidc"
START_PATH: Final = f"{OIDC_PATH}/start"
CALLBACK_PATH: Final = f"{OIDC_PATH}/callback"
CONFIG_PATH: Final = f"{SESSION_PATH}/config"
FLOW_COOKIE: Final = "casegraph_oidc"
MAX_PARAMETER: Final = 2048

PAGE: Final = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title><link rel="icon" href="data:,"></head>
<body><main data-testid="oidc-problem" data-reason="{reason}"><h1>{title}</h1><p>{text}</p>
<p><a href="{back}">{again}</a></p></main></body></html>
"""
# (title, text) per reason, per language; {provider} is the provider's configured name.
TEXTS: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "en": {
        "denied": (
            "Sign-in was cancelled",
            "{provider} did not sign you in: the sign-in was cancelled or refused there.",
        ),
        "expired": (
            "This sign-in has expired",
            "The sign-in took too long, was finished already, or was started in another browser. Please start again.",
        ),
        "unconfirmed": (
            "We could not confirm who you are",
            "The answer from {provider} could not be checked, so nobody was signed in. Please try again.",
        ),
        "unreachable": (
            "Sign-in is not available right now",
            "{provider} could not be reached. Please try again in a few minutes.",
        ),
        "deactivated": (
            "This account is deactivated",
            "An administrator has deactivated this account. Please contact the service desk.",
        ),
        "throttled": (
            "Too many sign-ins at once",
            "Too many sign-ins were started from your network. Please try again in a few minutes.",
        ),
        "again": ("Back to sign-in", ""),
    },
    "es": {
        "denied": (
            "Se canceló el inicio de sesión",
            "{provider} no inició su sesión: el inicio de sesión se canceló o se rechazó allí.",
        ),
        "expired": (
            "Este inicio de sesión ha caducado",
            "El inicio de sesión tardó demasiado, ya se había completado o se empezó en otro navegador. "
            "Vuelva a empezar, por favor.",
        ),
        "unconfirmed": (
            "No pudimos confirmar su identidad",
            "No se pudo comprobar la respuesta de {provider}, así que no se inició ninguna sesión. "
            "Inténtelo de nuevo, por favor.",
        ),
        "unreachable": (
            "El inicio de sesión no está disponible ahora",
            "No se pudo contactar con {provider}. Inténtelo de nuevo dentro de unos minutos, por favor.",
        ),
        "deactivated": (
            "Esta cuenta está desactivada",
            "Un administrador ha desactivado esta cuenta. Póngase en contacto con el servicio de atención.",
        ),
        "throttled": (
            "Demasiados inicios de sesión a la vez",
            "Se han iniciado demasiadas sesiones desde su red. Inténtelo de nuevo dentro de unos minutos, por favor.",
        ),
        "again": ("Volver al inicio de sesión", ""),
    },
}


def page_language(request: Request) -> str:
    """The first of the browser's languages we have texts in (Accept-Language, by quality)."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, parameters = item.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                continue
        ranked.append((-quality, position, tag.strip().split("-")[0].lower()))
    for _, _, language in sorted(ranked):
        if language in TEXTS:
            return language
    return "en"


def problem_page(request: Request, provider: OidcProvider, reason: str, *, status: int, back: str = PORTAL) -> Response:
    language = page_language(request)
    title, text = TEXTS[language][reason]
    response = HTMLResponse(
        PAGE.format(
            lang=language,
            title=escape(title),
            text=escape(text.format(provider=provider.name)),
            reason=reason,
            back=escape(back),
            again=escape(TEXTS[language]["again"][0]),
        ),
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )
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
            return problem_page(request, provider, "unreachable", status=502, back=next_path)
        try:
            flow = await start_flow(next_path=next_path, client=client_address(request.client), now=runtime.clock())
        except FlowThrottled as throttled:
            response = problem_page(request, provider, "throttled", status=429, back=next_path)
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
            return problem_page(request, provider, "denied", status=400, back=back)
        if not state or not code or len(state) > MAX_PARAMETER or len(code) > MAX_PARAMETER:
            return problem_page(request, provider, "expired", status=400)
        issuer = params.get("iss")
        if issuer is not None and issuer != provider.issuer:
            # RFC 9207: an answer from another provider (a mix-up attack) is not ours to use.
            log.warning("OIDC callback from issuer %r, not the one configured", issuer[:200])
            return problem_page(request, provider, "unconfirmed", status=400)
        try:
            flow = await claim_flow(state=state, browser_key=request.cookies.get(FLOW_COOKIE), now=runtime.clock())
        except FlowRefused:
            return problem_page(request, provider, "expired", status=400)
        try:
            answer = await client.exchange(code, verifier=flow.verifier)
            claims = await client.identity_claims(answer, nonce=flow.nonce)
            identity = identity_of(
                claims, issuer=provider.issuer, roles_claim=provider.roles_claim, role_map=provider.role_map
            )
        except ProviderError as problem:
            log.warning("OIDC sign-in failed at the provider: %s", problem)
            return problem_page(request, provider, "unreachable", status=502, back=flow.next_path)
        except (IdTokenRefused, SignInRefused) as refused:
            log.warning("OIDC ID token refused: %s", refused)
            return problem_page(request, provider, "unconfirmed", status=400, back=flow.next_path)
        try:
            signed_in = await sign_in_with_identity(identity, now=runtime.clock())
        except SignInRefused:
            return problem_page(request, provider, "deactivated", status=403, back=flow.next_path)
        response = RedirectResponse(flow.next_path, status_code=303, headers={"Cache-Control": "no-store"})
        set_refresh_cookie(response, runtime.settings, signed_in.refresh_token)
        _forget_flow_cookie(response, request)
        return response

    return callback
