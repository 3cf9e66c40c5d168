"""The reference front ends served by casegraph itself: the agent dashboard (``/``) and the
constituent portal (``/portal``), static files with no build step, talking to ``/graphql``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from casegraph.auth import issue_token
from casegraph.domain.enums import Role
from casegraph.settings import Settings
from models import User

ROLE_NAMES = {role.value for role in Role}
STATIC = Path(__file__).parent / "static"
# The pages are tiny and change with each release: let browsers revalidate instead of guessing.
NO_CACHE = {"Cache-Control": "no-cache"}
NOSNIFF = {"X-Content-Type-Options": "nosniff"}
# The pages load only their own files: no inline script or style attribute, nothing from another
# origin, and no page elsewhere may frame them (clickjacking a signed-in agent).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        # The portal's icon is a data: URL; attachments' thumbnails are blob: URLs of bytes the
        # page fetched with its token (casegraph/attachment_downloads.py).
        "img-src 'self' data: blob:",
        "connect-src 'self'",  # /graphql over HTTP and WebSocket (CSP 3: 'self' covers ws: and wss:)
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    **NO_CACHE,
    **NOSNIFF,
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers without CSP 3
    # Case URLs name cases: other sites need not learn them.
    "Referrer-Policy": "no-referrer",
}


def _page(path: str, file_name: str) -> Route:
    async def page(request: Request) -> Response:
        return FileResponse(STATIC / file_name, headers=PAGE_HEADERS)

    return Route(path, page)


class _NoSniffStaticFiles(StaticFiles):
    """Scripts and styles are only ever what their type says."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(NOSNIFF)
        return response


def demo_users_endpoint(settings: Settings) -> Route:
    """Tokens for the users in the database, so a developer can pick one on the sign-in screen.

    Only while the development secret is in use on a loopback address: anyone who can reach it
    can mint those tokens anyway, so this gives nothing away; with a real secret, on any other
    address or in production the route answers 404.
    """

    async def demo_users(request: Request) -> Response:
        if not settings.development_tools or not settings.uses_dev_secret:
            return JSONResponse({"error": {"code": "NOT_FOUND", "message": "Only in development."}}, 404)
        users = await User.all().order_by("id").values("id", "name", "email", "roles", "agency")
        body = [
            {
                "id": user["id"],
                "name": user["name"] or user["id"],
                "roles": user["roles"],
                "token": issue_token(
                    settings,
                    sub=user["id"],
                    roles=[Role(r) for r in user["roles"] if r in ROLE_NAMES],
                    name=user["name"],
                    email=user["email"],
                    agency=user["agency"],
                ),
            }
            for user in users
        ]
        return JSONResponse(body, headers={**NO_CACHE, **NOSNIFF})

    return Route("/dev/demo-users", demo_users)


def page_limits_endpoint(settings: Settings) -> Route:
    """What the pages check before sending a file (the server checks again): public, as the
    README states the same numbers."""

    async def limits(request: Request) -> Response:
        body = {"attachmentMaxBytes": settings.attachment_max_bytes}
        return JSONResponse(body, headers={**NO_CACHE, **NOSNIFF})

    return Route("/pages/limits.json", limits)


def web_routes(settings: Settings) -> list[BaseRoute]:
    return [
        _page("/", "agent.html"),
        _page("/portal", "portal.html"),
        page_limits_endpoint(settings),
        demo_users_endpoint(settings),
        Mount("/static", _NoSniffStaticFiles(directory=STATIC), name="static"),
    ]
