"""Sign-in with an OpenID provider (issue 17): the flows under way, and who an identity is here.

The HTTP side (casegraph/oidc_pages.py) talks to the provider; this module keeps what must hold
whatever the provider says:

- A flow is used once, within ``FLOW_LIFETIME``, by the browser that started it: its state is
  claimed by a conditional UPDATE (of two callbacks with the same state one wins) that also
  names the browser's key, so a callback URL replayed or handed to someone else signs nobody in.
- After sign-in the browser goes only to a path on this site (``safe_next``): never an open
  redirect to wherever a crafted ``next`` points.
- A person is found by (issuer, subject). The first time, an existing user with the same
  *verified* address is linked (the provider proved the mailbox, as a mailed link does) — unless
  that user has another identity at this provider already (refused: the address was reassigned
  there, or is a second account); otherwise a user is provisioned. An unverified address is not
  stored at all. Staff accounts are linked by address too: the configured provider is the
  organisation's sign-in (README, *Sign-in with your identity provider*).
- Roles follow the provider at every sign-in when a roles claim is configured (someone removed
  from the group loses the role then); without one, new people are ``CONSTITUENT`` and existing
  users keep the roles given here. A deactivated user is refused.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import urlsplit

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from casegraph.domain.enums import Role
from casegraph.domain.validation import courtesy_text
from casegraph.services.sign_in import SignedIn, SignInRefused, hash_secret, start_session
from models import OidcFlow, User, UserIdentity

FLOW_LIFETIME: Final = timedelta(minutes=10)
# Sign-ins started from one client address per FLOW_LIFETIME: each writes a row, so without a
# bound anyone could fill the table. Generous, because an office's staff share one address.
FLOWS_PER_CLIENT: Final = 100
DEFAULT_NEXT: Final = "/portal"
MAX_NEXT: Final = 512


class FlowThrottled(Exception):
    """Too many sign-ins started from one client address: try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many sign-ins started: retry after {retry_after} s.")
        self.retry_after = retry_after


class FlowRefused(Exception):
    """A callback whose flow is unknown, expired, used already, or was started by another browser."""


@dataclass(frozen=True)
class StartedFlow:
    """What the authorization request carries (state, nonce, challenge) and the browser keeps."""

    state: str
    nonce: str
    code_challenge: str
    browser_key: str


@dataclass(frozen=True)
class ClaimedFlow:
    nonce: str
    verifier: str
    next_path: str


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in, as this server will use it."""

    issuer: str
    subject: str
    # Only an address the provider says was verified; None otherwise.
    email: str | None
    name: str | None
    # None: the provider does not govern roles here (no roles claim configured).
    roles: tuple[Role, ...] | None


def code_challenge(verifier: str) -> str:
    """PKCE S256 (RFC 7636, section 4.2): BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def safe_next(value: str | None) -> str:
    """A path on this site to go to after sign-in; anything else (another site, a scheme-relative
    ``//host``, a backslash browsers read as a slash, control characters) is the portal."""
    if not value or len(value) > MAX_NEXT or not value.startswith("/") or value.startswith(("//", "/\\")):
        return DEFAULT_NEXT
    if any(ord(char) < 0x21 or char == "\\" for char in value):
        return DEFAULT_NEXT
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return DEFAULT_NEXT
    return value


async def start_flow(*, next_path: str | None, client: str, now: datetime) -> StartedFlow:
    """Write a flow: the state, nonce and PKCE verifier the callback will check.

    Raises ``FlowThrottled`` when ``client`` started FLOWS_PER_CLIENT flows within FLOW_LIFETIME.
    """
    client = client[:64]
    # Expired flows can sign nobody in and no longer count against anyone: gone.
    await OidcFlow.filter(expires_at__lte=now).delete()
    recent = OidcFlow.filter(client_address=client).order_by("created_at")
    started: list[datetime] = [row["created_at"] for row in await recent.values("created_at")]
    if len(started) >= FLOWS_PER_CLIENT:
        # A place frees when the oldest of the last FLOWS_PER_CLIENT expires.
        oldest = started[len(started) - FLOWS_PER_CLIENT]
        raise FlowThrottled(max(1, int((oldest + FLOW_LIFETIME - now).total_seconds()) + 1))
    state, nonce, browser_key = (secrets.token_urlsafe(32) for _ in range(3))
    verifier = secrets.token_urlsafe(64)  # 86 characters: RFC 7636 asks for 43 to 128
    await OidcFlow.create(
        id=uuid.uuid4(),
        state_hash=hash_secret(state),
        browser_hash=hash_secret(browser_key),
        nonce=nonce,
        verifier=verifier,
        next_path=safe_next(next_path),
        client_address=client,
        created_at=now,
        expires_at=now + FLOW_LIFETIME,
    )
    return StartedFlow(state=state, nonce=nonce, code_challenge=code_challenge(verifier), browser_key=browser_key)


async def claim_flow(*, state: str, browser_key: str | None, now: datetime) -> ClaimedFlow:
    """Use the flow ``state`` names, once, from the browser that started it."""
    if not state or browser_key is None or len(state) > 128 or len(browser_key) > 128:
        raise FlowRefused("No sign-in was started in this browser with that state.")
    async with in_transaction():
        claimed = await OidcFlow.filter(
            state_hash=hash_secret(state),
            browser_hash=hash_secret(browser_key),
            used_at__isnull=True,
            expires_at__gt=now,
        ).update(used_at=now)
        if not claimed:
            raise FlowRefused("This sign-in has expired, was used already, or was started in another browser.")
        flow = await OidcFlow.get(state_hash=hash_secret(state))
    return ClaimedFlow(nonce=flow.nonce, verifier=flow.verifier, next_path=flow.next_path)


def claim_at(claims: Mapping[str, object], path: str) -> object:
    """The value at a dotted path (``realm_access.roles`` in Keycloak's tokens), or None."""
    value: object = claims
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def map_roles(claims: Mapping[str, object], claim: str, role_map: tuple[tuple[str, str], ...]) -> tuple[Role, ...]:
    """The roles here of the provider's values at ``claim`` (a list, or one string); values the
    map does not name are ignored; no role at all is ``CONSTITUENT``."""
    found = claim_at(claims, claim)
    values = [found] if isinstance(found, str) else found if isinstance(found, list) else []
    theirs = {value for value in values if isinstance(value, str)}
    roles = {Role(ours) for value, ours in role_map if value in theirs}
    return tuple(sorted(roles, key=lambda role: role.value)) or (Role.CONSTITUENT,)


def identity_of(
    claims: Mapping[str, object], *, issuer: str, roles_claim: str | None, role_map: tuple[tuple[str, str], ...]
) -> Identity:
    """The identity in a validated ID token's claims (plus the userinfo's, if fetched)."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255 or "\x00" in subject:
        raise SignInRefused("The identity provider named nobody (no usable sub claim).")
    email = courtesy_text(claims.get("email"), 320) if claims.get("email_verified") is True else None
    return Identity(
        issuer=issuer,
        subject=subject,
        email=email.lower() if email and "@" in email else None,
        name=courtesy_text(claims.get("name"), 200),
        roles=map_roles(claims, roles_claim, role_map) if roles_claim else None,
    )


async def sign_in_with_identity(identity: Identity, *, now: datetime) -> SignedIn:
    """The identity's user (linked or provisioned, see the module) gets a new browser session."""
    async with in_transaction():
        user = await _user_of(identity, now)
        if not user.active:
            raise SignInRefused("This account is deactivated.")
        values: dict[str, object] = {"updated_at": now}
        if identity.roles is not None:
            values["roles"] = [role.value for role in identity.roles]
        if identity.name is not None:
            values["name"] = identity.name
        if (
            user.email is None
            and identity.email is not None
            and not await User.filter(email__iexact=identity.email).exists()
        ):
            values["email"] = identity.email
        await User.filter(id=user.id).update(**values)
        await UserIdentity.filter(issuer=identity.issuer, subject=identity.subject).update(last_signed_in_at=now)
        return await start_session(await User.get(id=user.id), family=uuid.uuid4(), now=now)


async def _user_of(identity: Identity, now: datetime) -> User:
    known = await UserIdentity.get_or_none(issuer=identity.issuer, subject=identity.subject)
    if known is not None:
        user = await User.get_or_none(id=known.user_id)
        if user is not None:
            return user
        await known.delete()  # its user was removed: the identity starts afresh
    try:
        # A savepoint: a concurrent first sign-in (of this identity, or of the same address by a
        # mailed link) leaves our transaction usable, and no half-provisioned user behind.
        async with in_transaction():
            return await _link_or_provision(identity, now)
    except IntegrityError:
        winner = await UserIdentity.get_or_none(issuer=identity.issuer, subject=identity.subject)
        if winner is not None:
            return await User.get(id=winner.user_id)
        return await _link_or_provision(identity, now)  # the address was bound meanwhile: link it


async def _link_or_provision(identity: Identity, now: datetime) -> User:
    user = await User.filter(email__iexact=identity.email).first() if identity.email else None
    if user is not None and await UserIdentity.filter(issuer=identity.issuer, user_id=user.id).exists():
        # The user has another identity at this provider already: the address now names a new
        # account there (reassigned to someone else, or a second account). Linking would hand the
        # first person's requests to whoever holds the new one.
        raise SignInRefused(
            "This address belongs to an account here that signs in with another account at the identity "
            "provider. Sign in with that one, or ask the agency to move the account."
        )
    if user is None:
        user = await User.create(
            id=str(uuid.uuid4()),
            email=identity.email,
            name=identity.name,
            roles=[role.value for role in identity.roles or (Role.CONSTITUENT,)],
            created_at=now,
            updated_at=now,
        )
    await UserIdentity.create(
        id=uuid.uuid4(),
        issuer=identity.issuer,
        subject=identity.subject,
        user_id=user.id,
        created_at=now,
        last_signed_in_at=now,
    )
    return user
