"""GraphQL over HTTP (the GraphQL Foundation's specification): media types and status codes.

Strawberry answers ``200 application/json`` for everything. The specification's newer media type,
``application/graphql-response+json``, lets status codes carry meaning: a response without
``data`` (the request failed before execution) is a 4xx, one with ``data`` is a 200. Clients that
ask only for ``application/json`` keep the legacy behaviour — 200 for every well-formed request —
which is what the specification asks for that media type.

Pure functions; the view in ``casegraph.app`` applies them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"

# Top-level error codes that mean something more precise than 400 when no data was produced.
STATUS_BY_CODE = {
    "UNAUTHENTICATED": 401,
    "RATE_LIMITED": 429,
}


def _accepted(accept: str) -> dict[str, float]:
    """Media ranges of an Accept header with their q-values (unparseable q counts as 0)."""
    ranges: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if not media:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranges[media.lower()] = max(quality, ranges.get(media.lower(), 0.0))
    return ranges


def negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header; None when neither JSON type is acceptable.

    Without an Accept header the legacy ``application/json`` is used (the specification's advice
    for servers that still serve legacy clients). The newer type is chosen only when the client
    names it and does not prefer ``application/json``.
    """
    if accept is None or not accept.strip():
        return APPLICATION_JSON
    ranges = _accepted(accept)
    new = ranges.get(GRAPHQL_RESPONSE_JSON, 0.0)
    legacy = max(ranges.get(APPLICATION_JSON, 0.0), ranges.get("application/*", 0.0), ranges.get("*/*", 0.0))
    if new > 0 and new >= legacy:
        return GRAPHQL_RESPONSE_JSON
    if legacy > 0:
        return APPLICATION_JSON
    return None


def is_request_error(data_is_none: bool, errors: Sequence[Any] | None) -> bool:
    """True when the operation failed before execution: no data, and no error belongs to a field.

    Parse, validation, limit, authentication, rate-limit and persisted-query refusals all look like
    this; a field error that nulls the whole result carries a ``path`` and is an execution result.
    """
    if not data_is_none or not errors:
        return False
    return all(getattr(error, "path", None) is None for error in errors)


def status_for(body: Mapping[str, Any] | Sequence[Mapping[str, Any]], media_type: str) -> int:
    """The HTTP status of a GraphQL response body for the negotiated media type."""
    if media_type != GRAPHQL_RESPONSE_JSON or not isinstance(body, Mapping) or "data" in body:
        return 200
    codes = [
        (error.get("extensions") or {}).get("code") for error in body.get("errors", []) if isinstance(error, Mapping)
    ]
    for code in codes:
        if code in STATUS_BY_CODE:
            return STATUS_BY_CODE[code]
    return 400


def error_body(message: str, code: str) -> dict[str, Any]:
    """A GraphQL-shaped body for a request refused before GraphQL saw it (bad JSON, wrong method…)."""
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


HTTP_ERROR_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}
