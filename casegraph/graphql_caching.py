"""Caching headers of GraphQL answers, and the bearer challenge of a 401.

GET carries queries only (persisted queries by hash are what CDNs and browsers cache), so its
answers may be cached, under rules that keep one viewer's data from another:

* an answer to a request with an ``Authorization`` header depends on who sent it:
  ``private, no-cache`` (a browser keeps it, and asks again with ``If-None-Match`` every time,
  so a revoked token or a changed case is never served from the cache) and ``Vary:
  Authorization, Cookie``;
* an answer to an anonymous request that succeeded is the same for everyone (anonymous callers
  may read only introspection): ``public, max-age=PUBLIC_MAX_AGE``;
* an answer with errors (refused, not found, rate limited, out of service) is not stored.

Every cacheable GET answer carries a strong ``ETag``, the hash of its body, and a matching
``If-None-Match`` is answered ``304 Not Modified`` without the body. The query still runs (and
is authorized): the tag saves the bytes, not the work. POST answers: ``no-store``.

A 401 carries ``WWW-Authenticate: Bearer`` (RFC 6750), with ``error="invalid_token"`` when
the request sent a token and it was refused, so a client knows to refresh rather than sign in.
"""

from __future__ import annotations

import hashlib
from typing import Final

from starlette.datastructures import Headers
from starlette.responses import Response

PUBLIC_MAX_AGE: Final = 300
NO_STORE: Final = "no-store"
PRIVATE: Final = "private, no-cache"
PUBLIC: Final = f"public, max-age={PUBLIC_MAX_AGE}"
VIEWER_HEADERS: Final = ("Authorization", "Cookie")


def body_tag(body: bytes) -> str:
    """A strong entity tag: the same bytes, the same tag, in every process."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str | None, tag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {candidate.strip().removeprefix("W/") for candidate in if_none_match.split(",")}
    return "*" in candidates or tag in candidates


def _add_vary(response: Response, *names: str) -> None:
    present = [value.strip() for value in response.headers.get("vary", "").split(",") if value.strip()]
    wanted = present + [name for name in names if name.lower() not in {p.lower() for p in present}]
    response.headers["vary"] = ", ".join(wanted)


def bearer_challenge(request_headers: Headers) -> str:
    sent = request_headers.get("authorization", "").strip()
    return 'Bearer error="invalid_token"' if sent else "Bearer"


def apply_http_semantics(response: Response, *, method: str, request_headers: Headers, has_errors: bool) -> Response:
    """The response to send: headers set, or a 304 in its place when the client's copy is current."""
    if response.status_code == 401:
        response.headers["www-authenticate"] = bearer_challenge(request_headers)
    cacheable = method in ("GET", "HEAD") and response.status_code == 200 and not has_errors
    if not cacheable:
        response.headers["cache-control"] = NO_STORE
        return response
    viewer_dependent = "authorization" in request_headers
    response.headers["cache-control"] = PRIVATE if viewer_dependent else PUBLIC
    _add_vary(response, *VIEWER_HEADERS)
    tag = body_tag(bytes(response.body))
    response.headers["etag"] = tag
    if _matches(request_headers.get("if-none-match"), tag):
        not_modified = Response(status_code=304)
        for name in ("cache-control", "vary", "etag"):
            not_modified.headers[name] = response.headers[name]
        return not_modified
    return response
