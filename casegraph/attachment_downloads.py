"""``GET /attachments/<id>?expires=…&signature=…[&variant=thumbnail]``: a file, to the person it was linked for.

Three checks, each on its own: who asks (the bearer token of a script, or the download cookie a
browser sends with a plain ``<img src>`` or link: casegraph/download_cookie.py; either way through
casegraph/authentication.py, so an ended session or a deactivated user is refused at once), the
link (signed for that user, not expired), and, when the link is used, whether that user may still
see the case and the file (``services/attachments.downloadable``). A link given to someone else
fails the second check; a link kept after its time too; a user who lost the case since fails the
last.

The answer is built to be inert whatever the bytes: ``nosniff``, a CSP that forbids everything
and sandboxes the document, ``attachment`` disposition except for the images (re-encoded by us)
and thumbnails the pages show, and no copy kept by shared caches.

``POST /attachments/session`` (same site, with a bearer token) gives a page signed in with a
pasted token the download cookie too; ``DELETE`` clears it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from casegraph.auth import AuthError
from casegraph.authentication import actor_of
from casegraph.domain.attachments import TEXT, Variant, shown_inline
from casegraph.domain.enums import ErrorCode
from casegraph.domain.errors import DomainError
from casegraph.domain.relations import Actor
from casegraph.download_cookie import COOKIE, DownloadPass, decode, forget_download_cookie, set_download_cookie
from casegraph.runtime import Runtime
from casegraph.services.attachments import downloadable
from casegraph.services.sign_in import SESSION_LIFETIME
from casegraph.services.users import claims_of_user
from casegraph.sign_in_pages import ACCESS_LIFETIME, same_site

PATH = "/attachments/{attachment_id}"
PASS_PATH = "/attachments/session"
FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    # Per user and short-lived: nothing between here and the browser may keep or share it.
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
STATUS = {ErrorCode.NOT_FOUND: 404, ErrorCode.PERMISSION_DENIED: 403}


def attachment_download_endpoint(runtime: Runtime) -> Callable[[Request], Awaitable[Response]]:
    async def download(request: Request) -> Response:
        attachment_id = str(request.path_params["attachment_id"])
        try:
            variant = Variant(request.query_params.get("variant", Variant.ORIGINAL.value))
        except ValueError:
            return _refusal(400, "BAD_REQUEST", "variant is original or thumbnail.")
        try:
            actor = await _asker(runtime, request)
        except AuthError as error:
            return _refusal(401, "UNAUTHENTICATED", str(error))
        desk = runtime.attachments
        if not desk.links.verify(
            attachment_id=attachment_id,
            user_id=actor.user_id,
            variant=variant,
            expires=request.query_params.get("expires", ""),
            signature=request.query_params.get("signature", ""),
            now=runtime.clock(),
        ):
            return _refusal(403, "LINK_INVALID", "This link is not yours or has expired: ask for the file again.")
        try:
            found = await downloadable(actor, attachment_id, variant)
        except DomainError as refusal:
            # Not GraphQL: the route answers a refusal with its HTTP status.
            return _refusal(STATUS.get(refusal.code, 403), refusal.code.value, refusal.message)
        if not await desk.store.exists(found.sha256):
            return _refusal(404, ErrorCode.NOT_FOUND.value, "The file's content is gone.")
        disposition = "inline" if shown_inline(found.content_type, variant) else "attachment"
        media_type = f"{TEXT}; charset=utf-8" if found.content_type == TEXT else found.content_type
        headers = {**FILE_HEADERS, "Content-Disposition": _disposition(disposition, found.filename)}
        return StreamingResponse(desk.store.read(found.sha256), media_type=media_type, headers=headers)

    return download


async def _asker(runtime: Runtime, request: Request) -> Actor:
    """The actor asking: by the bearer token when the request has one, else by the download
    cookie; AuthError when neither names someone who may still act."""
    claims = await runtime.verifier.verify(request.headers.get("authorization"))
    if claims is not None:
        return await actor_of(runtime, claims)
    granted = decode(runtime.settings, request.cookies.get(COOKIE), now=runtime.clock())
    if granted is None:
        raise AuthError("Sign in, then open the file from the page again.")
    from_row = await claims_of_user(granted.user_id, session=granted.session)
    if from_row is None:
        raise AuthError("Sign in, then open the file from the page again.")
    return await actor_of(runtime, from_row, from_token=False)


def download_pass_endpoint(runtime: Runtime) -> Callable[[Request], Awaitable[Response]]:
    async def download_pass(request: Request) -> Response:
        if not same_site(request):
            return _refusal(403, ErrorCode.PERMISSION_DENIED.value, "Requests from other sites are refused.")
        response = Response(status_code=204, headers={"Cache-Control": "no-store"})
        if request.method == "DELETE":
            forget_download_cookie(response, runtime.settings)
            return response
        try:
            claims = await runtime.verifier.verify(request.headers.get("authorization"))
            if claims is None:
                raise AuthError("Send the token: Authorization: Bearer <token>.")
            actor = await actor_of(runtime, claims)
        except AuthError as error:
            return _refusal(401, "UNAUTHENTICATED", str(error))
        now = runtime.clock()
        # As long as what it stands for: the browser session, else the token itself.
        if claims.session is not None:
            until = int((now + SESSION_LIFETIME).timestamp())
        elif claims.valid_until is not None:
            until = int(claims.valid_until)
        else:
            until = int((now + ACCESS_LIFETIME).timestamp())
        granted = DownloadPass(user_id=actor.user_id, session=claims.session, expires=until)
        set_download_cookie(response, runtime.settings, granted, now=now)
        return response

    return download_pass


def _disposition(kind: str, filename: str) -> str:
    """RFC 6266: an ASCII fallback name and the real one in UTF-8 (RFC 8187)."""
    fallback = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _refusal(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=dict(FILE_HEADERS))
