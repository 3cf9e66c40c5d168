"""The HTTP side of sign-in by mailed link and of browser sessions (rules: services/sign_in.py).

``GET /signin/link?token=…`` shows a page with one button, because mail scanners follow links
and must not use up a single-use link (as ``/mail/unsubscribe`` does); its ``POST`` signs the
person in and sends them to the portal with a refresh token in a cookie.

The refresh token lives only in an HttpOnly cookie (no page script reads it), SameSite=Strict
(no other site's page sends it), Secure when the public URL is https, and scoped to ``/auth``,
so no other request carries it. ``POST /auth/refresh`` trades it for a short-lived access token
(the usual bearer JWT, so every transport's checks apply unchanged) and its successor;
``POST /auth/signout`` ends the session, and with it every socket opened with its access tokens
(they carry the session as ``sid``). Without a cookie, refresh answers 204: no session. A POST whose ``Origin`` is another site is refused
before anything else: signing someone in to an account of the sender's choosing is an attack too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape
from typing import Any, Final
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from casegraph.auth import issue_token
from casegraph.download_cookie import DownloadPass, forget_download_cookie, set_download_cookie
from casegraph.mail.catalogs import Texts
from casegraph.pages import LANGUAGE_PARAMETER, link, page, paragraph, reader_texts
from casegraph.runtime import Runtime
from casegraph.services.sign_in import (
    LINK_LIFETIME,
    SESSION_LIFETIME,
    SignedIn,
    SignInRefused,
    StaffSignInElsewhere,
    open_sign_in_link,
    refresh_session,
)
from casegraph.services.sign_in import sign_out as end_session
from casegraph.settings import Settings

REFRESH_COOKIE: Final = "casegraph_refresh"
SESSION_PATH: Final = "/auth"
REFRESH_PATH: Final = f"{SESSION_PATH}/refresh"
SIGN_OUT_PATH: Final = f"{SESSION_PATH}/signout"
# Short: a stolen access token is good only this long; the portal refreshes before it ends.
ACCESS_LIFETIME: Final = timedelta(minutes=10)
PORTAL: Final = "/portal"
# Secrets are 64 hexadecimal digits (services/sign_in.link_secret); anything longer is not one.
MAX_SECRET: Final = 128

CROSS_SITE = {"error": {"code": "PERMISSION_DENIED", "message": "Requests from other sites are refused."}}
ENDED = {"error": {"code": "UNAUTHENTICATED", "message": "The session has ended: sign in again."}}


def same_site(request: Request) -> bool:
    """No Origin (a form post of an older browser, a script) or this server's own origin."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = urlsplit(str(request.base_url))
    return origin == f"{own.scheme}://{own.netloc}"


def set_refresh_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        REFRESH_COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path=SESSION_PATH,
        secure=settings.public_url.startswith("https://"),
        httponly=True,
        samesite="strict",
    )


def set_session_cookies(response: Response, settings: Settings, signed_in: SignedIn, *, now: datetime) -> None:
    """The refresh cookie and, beside it, the download cookie of the same session (which lets
    the pages show files by plain links: casegraph/download_cookie.py)."""
    set_refresh_cookie(response, settings, signed_in.refresh_token)
    until = int((now + SESSION_LIFETIME).timestamp())
    granted = DownloadPass(user_id=signed_in.user_id, session=signed_in.session, expires=until)
    set_download_cookie(response, settings, granted, now=now)


def _forget_refresh_cookie(response: Response, settings: Settings) -> None:
    forget_download_cookie(response, settings)
    response.delete_cookie(
        REFRESH_COOKIE,
        path=SESSION_PATH,
        secure=settings.public_url.startswith("https://"),
        httponly=True,
        samesite="strict",
    )


def access_token(settings: Settings, signed_in: SignedIn) -> str:
    return issue_token(
        settings,
        sub=signed_in.user_id,
        roles=list(signed_in.roles),
        name=signed_in.name,
        email=signed_in.email,
        session=signed_in.session,
        ttl=ACCESS_LIFETIME,
    )


def _ask(texts: Texts, token: str) -> Response:
    # The form posts the language back, so what follows the button speaks it too.
    form = (
        f'<form method="post"><input type="hidden" name="token" value="{escape(token)}">'
        f'<input type="hidden" name="{LANGUAGE_PARAMETER}" value="{escape(texts.language)}">'
        f'<button type="submit" class="primary">{escape(texts.text("sign_in.button", {}))}</button></form>'
    )
    return page(texts, texts.text("sign_in.title", {}), paragraph(texts.text("sign_in.ask", {})) + form)


def _refused(texts: Texts, status: int) -> Response:
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    body = paragraph(texts.text("sign_in.refused.text", {"minutes": minutes}))
    body += link(PORTAL, texts.text("sign_in.refused.again", {}))
    return page(texts, texts.text("sign_in.refused.title", {}), body, status=status)


def _staff(texts: Texts) -> Response:
    body = paragraph(texts.text("sign_in.staff.text", {})) + link("/", texts.text("sign_in.staff.desk", {}))
    return page(texts, texts.text("sign_in.staff.title", {}), body, status=403)


def sign_in_link_endpoint(runtime: Runtime) -> Any:
    override = runtime.settings.mail_templates

    async def sign_in_link(request: Request) -> Response:
        if request.method == "GET":
            texts = reader_texts(request, override)
            token = request.query_params.get("token", "")
            if not token or len(token) > MAX_SECRET:
                return _refused(texts, 400)
            return _ask(texts, token)
        form = await request.form()
        texts = reader_texts(request, override, named=form.get(LANGUAGE_PARAMETER))
        if not same_site(request):
            return _refused(texts, 403)
        posted = form.get("token")
        if not isinstance(posted, str) or not posted or len(posted) > MAX_SECRET:
            return _refused(texts, 400)
        try:
            signed_in = await open_sign_in_link(
                secret=posted, now=runtime.clock(), constituents_only=runtime.settings.oidc_issuer is not None
            )
        except StaffSignInElsewhere:
            return _staff(texts)
        except SignInRefused:
            return _refused(texts, 400)
        # 303: the browser GETs the portal, which trades the cookie for an access token.
        response = RedirectResponse(PORTAL, status_code=303)
        set_session_cookies(response, runtime.settings, signed_in, now=runtime.clock())
        return response

    return sign_in_link


def refresh_endpoint(runtime: Runtime) -> Any:
    async def refresh(request: Request) -> Response:
        if not same_site(request):
            return JSONResponse(CROSS_SITE, status_code=403)
        token = request.cookies.get(REFRESH_COOKIE)
        if not token:
            # No session to refresh: what every portal load before a sign-in asks; not an error.
            return Response(status_code=204)
        if len(token) > MAX_SECRET:
            return JSONResponse(ENDED, status_code=401)
        try:
            signed_in = await refresh_session(
                token=token, now=runtime.clock(), signing_secret=runtime.settings.refresh_successor_secret
            )
        except SignInRefused as refusal:
            if refusal.ended_session is not None:
                await _session_ended(runtime, refusal.ended_session)
            response = JSONResponse(ENDED, status_code=401)
            _forget_refresh_cookie(response, runtime.settings)
            return response
        body = {
            "accessToken": access_token(runtime.settings, signed_in),
            "expiresIn": int(ACCESS_LIFETIME.total_seconds()),
            "user": {"id": signed_in.user_id, "name": signed_in.name, "email": signed_in.email},
        }
        response = JSONResponse(body, headers={"Cache-Control": "no-store"})
        set_session_cookies(response, runtime.settings, signed_in, now=runtime.clock())
        return response

    return refresh


def sign_out_endpoint(runtime: Runtime) -> Any:
    async def sign_out(request: Request) -> Response:
        if not same_site(request):
            return JSONResponse(CROSS_SITE, status_code=403)
        token = request.cookies.get(REFRESH_COOKIE)
        if token and len(token) <= MAX_SECRET:
            ended = await end_session(token=token, now=runtime.clock())
            if ended is not None:
                await _session_ended(runtime, ended)
        response = Response(status_code=204)
        _forget_refresh_cookie(response, runtime.settings)
        return response

    return sign_out


async def _session_ended(runtime: Runtime, session: str) -> None:
    """After the commit: sockets opened with the session's access tokens close, on every process."""
    if runtime.live is not None:
        await runtime.live.session_ended(session)
