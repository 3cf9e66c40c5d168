"""Bearer tokens: HS256 with our secret by default, or an identity provider's JWKS (RS256/ES256)."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Final

import jwt

from casegraph import partner_tokens
from casegraph.domain.enums import Role
from casegraph.domain.validation import courtesy_text
from casegraph.services.users import Claims
from casegraph.settings import Settings
from models import PartnerAgency

ASYMMETRIC_ALGORITHMS: Final = ["RS256", "ES256"]
MAX_TOKEN_LENGTH: Final = 8192
LEEWAY_SECONDS: Final = 30
# Verified tokens remembered (see VerifiedTokens): a dashboard sends the same token all day.
VERIFIED_CACHE_SIZE: Final = 4096
# No longer than the identity provider's key set is cached: a withdrawn key stops counting as soon.
VERIFIED_CACHE_SECONDS: Final = 300.0


class VerifiedTokens:
    """Claims of tokens whose signature and claims were checked, until they would expire.

    Checking an HS256 signature and the claims is a sizeable share of a simple mutation's server
    time (the README's Performance section has the figure); the same token is checked again on every request of a session. An
    entry lasts until the token's ``exp`` (with the leeway decoding allows) and at most
    ``VERIFIED_CACHE_SECONDS``; only successful checks are remembered, so a refused token is
    checked (and refused) every time. Partner tokens are not remembered: their validity depends on
    the partner's configuration here.
    """

    def __init__(
        self,
        size: int = VERIFIED_CACHE_SIZE,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.size = size
        self._clock, self._wall = clock, wall
        self._entries: OrderedDict[str, tuple[Claims, float]] = OrderedDict()

    def get(self, token: str) -> Claims | None:
        found = self._entries.get(token)
        if found is None:
            return None
        claims, until = found
        if self._clock() >= until:
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return claims

    def remember(self, token: str, claims: Claims, payload: dict[str, Any]) -> None:
        exp = payload.get("exp")
        if not isinstance(exp, (int, float)):
            return
        lifetime = min(float(exp) + LEEWAY_SECONDS - self._wall(), VERIFIED_CACHE_SECONDS)
        if lifetime <= 0:
            return
        self._entries[token] = (claims, self._clock() + lifetime)
        self._entries.move_to_end(token)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)


class AuthError(Exception):
    """The token is missing, malformed, expired or not ours."""


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._jwks: jwt.PyJWKClient | None = None
        self.verified = VerifiedTokens()
        if settings.jwt_jwks_url:
            # PyJWKClient caches the key set and refetches when it meets an unknown key id.
            self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True, lifespan=300, timeout=5)

    async def verify(self, authorization: str | None) -> Claims | None:
        """Claims of a valid ``Bearer`` header; None when there is no header; AuthError otherwise."""
        if authorization is None or not authorization.strip():
            return None
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError("Use an 'Authorization: Bearer <token>' header.")
        if len(token) > MAX_TOKEN_LENGTH:
            raise AuthError("The token is too long.")
        remembered = self.verified.get(token)
        if remembered is not None:
            return remembered
        sender = partner_tokens.sender_of(token)
        if sender is not None:
            return await self._partner_claims(token, sender)
        try:
            payload = await self._decode(token)
        except jwt.ExpiredSignatureError:
            raise AuthError("The token has expired.") from None
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise AuthError(f"The token is not valid: {type(exc).__name__}.") from None
        claims = claims_from_payload(payload)
        self.verified.remember(token, claims, payload)
        return claims

    async def _partner_claims(self, token: str, sender: str) -> Claims:
        """A partner agency's service token, checked against the secret we share with it.

        The claims come from our configuration, not the token: role PARTNER, agency = its code.
        """
        known = len(sender) <= 32 and "\x00" not in sender  # what a code column can hold
        partner = await PartnerAgency.filter(code=sender, active=True).first() if known else None
        if partner is None:
            raise AuthError("The token names a partner agency that is not configured here.")
        try:
            payload = partner_tokens.verify(
                token, sender=partner.code, receiver=self._settings.agency_code, secret=partner.shared_secret
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("The token has expired.") from None
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise AuthError(f"The token is not valid: {type(exc).__name__}.") from None
        return Claims(
            sub=f"{partner_tokens.KID_PREFIX}{partner.code}",
            roles=frozenset({Role.PARTNER}),
            name=partner.name,
            agency=partner.code,
            valid_until=valid_until(payload),
        )

    async def _decode(self, token: str) -> dict[str, Any]:
        options = {"require": ["sub", "exp"]}
        settings = self._settings
        kwargs: dict[str, Any] = {"options": options, "leeway": LEEWAY_SECONDS}
        if settings.jwt_audience:
            kwargs["audience"] = settings.jwt_audience
        else:
            options["verify_aud"] = False  # type: ignore[assignment]
        if settings.jwt_issuer:
            kwargs["issuer"] = settings.jwt_issuer
        if self._jwks is not None:
            # Fetching the key set is blocking network I/O: keep it off the event loop.
            signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
            return jwt.decode(token, signing_key.key, algorithms=ASYMMETRIC_ALGORITHMS, **kwargs)
        return jwt.decode(token, settings.jwt_secret, algorithms=["HS256"], **kwargs)


def claims_from_payload(payload: dict[str, Any]) -> Claims:
    sub = payload.get("sub")
    # NUL is refused too: PostgreSQL cannot store it in text, so provisioning would crash (a 500).
    if not isinstance(sub, str) or not sub.strip() or len(sub) > 255 or "\x00" in sub:
        raise AuthError("The token's sub claim must be a non-empty string (at most 255 characters, no NUL).")
    raw_roles = payload.get("roles", [])
    if not isinstance(raw_roles, list):
        raise AuthError("The token's roles claim must be a list.")
    roles: set[Role] = set()
    for raw in raw_roles:
        try:
            roles.add(Role(raw))
        except ValueError:
            continue  # roles of other applications may share the token
    return Claims(
        sub=sub,
        roles=frozenset(roles),
        name=courtesy_text(payload.get("name"), 200),
        # An address counts only when the identity provider says its owner proved it: otherwise
        # anyone could claim another person's address and be sent (or take) their mail.
        email=courtesy_text(payload.get("email"), 320) if payload.get("email_verified") is True else None,
        agency=courtesy_text(payload.get("agency"), 100),
        valid_until=valid_until(payload),
        session=_session_of(payload),
    )


def _session_of(payload: dict[str, Any]) -> str | None:
    sid = payload.get("sid")
    return sid if isinstance(sid, str) and 0 < len(sid) <= 64 else None


def valid_until(payload: dict[str, Any]) -> float | None:
    """When the verifier starts refusing the token: its ``exp`` plus the leeway decoding allows."""
    exp = payload.get("exp")
    return float(exp) + LEEWAY_SECONDS if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None


def issue_token(
    settings: Settings,
    *,
    sub: str,
    roles: list[Role],
    name: str | None = None,
    email: str | None = None,
    agency: str | None = None,
    session: str | None = None,
    ttl: timedelta = timedelta(days=30),
) -> str:
    """A development/testing token signed with the HS256 secret."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "sub": sub,
        "roles": [r.value for r in roles],
        "iat": now,
        "exp": now + int(ttl.total_seconds()),
    }
    for claim, value in (("name", name), ("email", email), ("agency", agency), ("sid", session)):
        if value:
            payload[claim] = value
    if email:
        payload["email_verified"] = True  # we sign it: the operator vouches for the address
    if settings.jwt_issuer:
        payload["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        payload["aud"] = settings.jwt_audience
    return jwt.encode(payload, settings.jwt_secret, algorithm="HS256")
