"""The download cookie: what lets a plain ``<img src>`` or ``<a href download>`` fetch a file.

An attachment's link is signed for one user (services/attachment_links.py); the download route
must still learn who is asking, and a browser following a plain link sends no ``Authorization``
header. It sends this cookie instead: HttpOnly (no page script reads it), SameSite=Strict (no other
site's page or mail makes the browser send it), scoped to ``/attachments`` (no other request
carries it), Secure under https. It holds no token, only whom it was issued for (the user, and
the browser session when there is one) and until when, signed with a key derived from both of
the server's secrets; a page script that reads the session id from an access token cannot forge
one.

It grants nothing by itself: every download checks again, at use, that the session is not
revoked, the user is active, their roles and memberships as they are now, and the link's
signature for that same user. Signing out revokes the session, so links stop working at once
even where the browser kept the cookie.

Issued with the browser session (sign-in, each refresh) and cleared with it; a page signed in
with a pasted token (the dashboard in development) asks for one at ``POST /attachments/session``
with that token, lasting as long as the token, and clears it with ``DELETE``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from starlette.responses import Response

from casegraph.settings import Settings

COOKIE: Final = "casegraph_files"
PATH: Final = "/attachments"
KEY_LABEL: Final = b"casegraph download cookie v1"
# Stands for "no browser session" in the cookie (a pasted token's pass).
NO_SESSION: Final = "-"
MAX_LENGTH: Final = 1024


@dataclass(frozen=True)
class DownloadPass:
    user_id: str
    session: str | None
    expires: int


def _key(settings: Settings) -> bytes:
    return hmac.new(settings.refresh_successor_secret.encode(), KEY_LABEL, hashlib.sha256).digest()


def _sign(settings: Settings, body: str) -> str:
    return hmac.new(_key(settings), body.encode(), hashlib.sha256).hexdigest()


def encode(settings: Settings, granted: DownloadPass) -> str:
    user = base64.urlsafe_b64encode(granted.user_id.encode()).decode().rstrip("=")
    body = f"{user}.{granted.session or NO_SESSION}.{granted.expires}"
    return f"{body}.{_sign(settings, body)}"


def decode(settings: Settings, value: str | None, *, now: datetime) -> DownloadPass | None:
    """The pass the cookie holds, or None: absent, malformed, not signed by us, or expired."""
    if not value or len(value) > MAX_LENGTH:
        return None
    parts = value.split(".")
    if len(parts) != 4:
        return None
    user, session, expires, signature = parts
    if not hmac.compare_digest(_sign(settings, f"{user}.{session}.{expires}"), signature):
        return None
    if not expires.isdigit() or int(expires) <= now.timestamp():
        return None
    try:
        user_id = base64.urlsafe_b64decode(user + "=" * (-len(user) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return DownloadPass(user_id=user_id, session=None if session == NO_SESSION else session, expires=int(expires))


def set_download_cookie(response: Response, settings: Settings, granted: DownloadPass, *, now: datetime) -> None:
    response.set_cookie(
        COOKIE,
        encode(settings, granted),
        max_age=max(0, granted.expires - int(now.timestamp())),
        path=PATH,
        secure=settings.public_url.startswith("https://"),
        httponly=True,
        samesite="strict",
    )


def forget_download_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        COOKIE,
        path=PATH,
        secure=settings.public_url.startswith("https://"),
        httponly=True,
        samesite="strict",
    )
