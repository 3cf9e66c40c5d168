"""Service tokens between partner agencies: short-lived HS256 JWTs under a per-partner secret.

Each side's administrator registers the other (``PartnerAgency``) with the same shared secret.
A token names its sender in the header's ``kid`` (``partner:<code>``) so the receiver knows which
secret to verify with before trusting anything in it; the audience is the receiver's agency code,
so a token minted for one partner is refused by another that happens to share the secret.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Final

import jwt

ISSUER: Final = "casegraph-partner"
KID_PREFIX: Final = "partner:"
TTL: Final = timedelta(minutes=5)


def mint(*, sender: str, receiver: str, secret: str, now: datetime) -> str:
    issued = int(now.timestamp())
    payload = {
        "iss": ISSUER,
        "sub": f"{KID_PREFIX}{sender}",
        "aud": receiver,
        "agency": sender,
        "roles": ["PARTNER"],
        "iat": issued,
        "exp": issued + int(TTL.total_seconds()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(payload, secret, algorithm="HS256", headers={"kid": f"{KID_PREFIX}{sender}"})


def sender_of(token: str) -> str | None:
    """The partner code a token claims to come from (unverified), or None for other tokens."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return None
    kid = header.get("kid")
    if isinstance(kid, str) and kid.startswith(KID_PREFIX) and len(kid) <= 64:
        return kid[len(KID_PREFIX) :]
    return None


def verify(token: str, *, sender: str, receiver: str, secret: str) -> dict[str, Any]:
    """The payload if the token is ours to accept; raises jwt.PyJWTError otherwise."""
    payload: dict[str, Any] = jwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        audience=receiver,
        issuer=ISSUER,
        options={"require": ["sub", "exp", "iat", "aud", "iss"]},
        leeway=30,
    )
    if payload.get("sub") != f"{KID_PREFIX}{sender}" or payload.get("agency") != sender:
        raise jwt.InvalidTokenError("The token's subject does not match its sender.")
    return payload
