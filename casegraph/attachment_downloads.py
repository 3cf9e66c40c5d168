"""``GET /attachments/<id>?expires=…&signature=…[&variant=thumbnail]``: a file, to the person it was linked for.

Three checks, each on its own: the link (signed for this user, not expired), the bearer token
(``Authorization``: pages fetch with it and show the bytes from a ``blob:`` URL, since an
``<img src>`` or a plain link cannot send it, and a session cookie would ride along with any
request another site makes), and, when the link is used, whether that user may still see the
case and the file (``services/attachments.downloadable``). A link given to someone else fails the
first check; a link kept after its time too; a user who lost the case since fails the last.

The answer is built to be inert whatever the bytes: ``nosniff``, a CSP that forbids everything
and sandboxes the document, ``attachment`` disposition except for the images (re-encoded by us)
and thumbnails the pages show, and no copy kept by shared caches.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from casegraph.auth import AuthError
from casegraph.domain.attachments import TEXT, Variant, shown_inline
from casegraph.domain.enums import ErrorCode
from casegraph.domain.errors import DomainError
from casegraph.runtime import Runtime
from casegraph.services.attachments import downloadable
from casegraph.services.users import UserDeactivated, build_actor, provision

PATH = "/attachments/{attachment_id}"
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
            claims = await runtime.verifier.verify(request.headers.get("authorization"))
        except AuthError as error:
            return _refusal(401, "UNAUTHENTICATED", str(error))
        if claims is None:
            return _refusal(401, "UNAUTHENTICATED", "Send the session's token: Authorization: Bearer <token>.")
        await provision(claims=claims, now=runtime.clock())
        try:
            actor = await build_actor(claims, refuse_deactivated=True)
        except UserDeactivated:
            return _refusal(401, "UNAUTHENTICATED", "This account is deactivated.")
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


def _disposition(kind: str, filename: str) -> str:
    """RFC 6266: an ASCII fallback name and the real one in UTF-8 (RFC 8187)."""
    fallback = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _refusal(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=dict(FILE_HEADERS))
