"""Sign-in without tokens (issue 17): a mailed single-use link, then a session the browser keeps.

``request_sign_in_link`` answers the same way for every well-formed address, known or not: it
looks up no user at all, and writes a link row and its mail row for any address under its
throttle, so neither the answer nor the work done tells whether someone has an account here. The
user is found (or provisioned as a ``CONSTITUENT``) only when the link is opened, by whoever
holds the mailbox.

Secrets are stored only as SHA-256 hashes. A link's secret is derived from its id with the
server's mail signing secret, so the mail outbox row names only the link's id and the mail
dispatcher derives the secret when it renders the mail: nothing in the database signs anyone in.

A session is a family of refresh tokens: each refresh retires the token presented and issues its
successor. A retired token presented again was copied, so the whole family is revoked (RFC 9700
section 4.14.2, refresh token rotation); sign-out revokes the family, deactivating a user revokes
all of theirs.

Except within ``REUSE_GRACE`` of its retirement: two tabs of one browser refreshing at once send
the same cookie, and the second must not sign the person out. A successor is derived from the
token it follows with the server's signing secret (``successor_token``), so the server can hand
the same successor to the second request without storing any token; after the grace, the
retired token revokes the family as before. Only the holder of the retired token gets the
successor, and only for those seconds: what a stolen, long-retired token still does is revoke.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from casegraph.domain.enums import Role
from casegraph.domain.errors import not_found, permission_denied, validation_failed
from casegraph.domain.relations import Actor
from casegraph.domain.validation import clean_email, lookup_key
from models import BrowserSession, DeliveryStatus, MailDelivery, SignInLink, User

LINK_LIFETIME: Final = timedelta(minutes=15)
# Links mailed to one address per LINK_LIFETIME: more would only fill someone's mailbox. Over it
# the answer is the same and nothing is mailed (the links already sent still work).
LINKS_PER_ADDRESS: Final = 3
# Links asked for from one client address per hour: over it the request is refused with the
# seconds to wait, whatever address it names (so the refusal says nothing about any account).
LINKS_PER_CLIENT: Final = 20
CLIENT_WINDOW: Final = timedelta(hours=1)
# A session's refresh token lasts this long unused; each refresh starts the span again.
SESSION_LIFETIME: Final = timedelta(days=30)
# A retired refresh token presented again this soon is a second tab's refresh racing the first
# (the portal serializes its tabs' refreshes; this covers browsers without Web Locks).
REUSE_GRACE: Final = timedelta(seconds=30)
# Successors followed from a token retired within the grace (a tab that refreshed twice meanwhile).
GRACE_STEPS: Final = 3
SIGN_IN_TEMPLATE: Final = "sign_in"
# Sent instead of the link to a staff member's address while an identity provider signs staff in.
STAFF_SIGN_IN_TEMPLATE: Final = "sign_in_staff"
DEFAULT_LOCALE: Final = "en"
LOCALE: Final = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}")


class SignInThrottled(Exception):
    """Too many links asked for from one client address: try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many sign-in links asked for: retry after {retry_after} s.")
        self.retry_after = retry_after


class SignInRefused(Exception):
    """A link or refresh token that signs nobody in: unknown, expired, used, or revoked.

    ``ended_session``: the session (family) the refusal revoked, whose open connections must end.
    """

    def __init__(self, message: str, *, ended_session: str | None = None) -> None:
        super().__init__(message)
        self.ended_session = ended_session


class StaffSignInElsewhere(SignInRefused):
    """A staff member's link while an identity provider signs staff in: the organisation's sign-in is theirs."""


@dataclass(frozen=True)
class SignedIn:
    """Who a link or a refresh signed in, and the refresh token that continues their session."""

    user_id: str
    roles: tuple[Role, ...]
    name: str | None
    email: str | None
    refresh_token: str
    # The family of the refresh token: access tokens name it (``sid``) so that ending the session
    # ends their use too.
    session: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def link_secret(signing_secret: str, link_id: str) -> str:
    """The secret of a link's URL: only someone holding the server's signing secret can make it."""
    digest = hmac.new(signing_secret.encode(), f"sign-in-link:{link_id}".encode(), hashlib.sha256)
    return digest.hexdigest()


def mail_locale(accept_language: str | None) -> str:
    """The language of the link's mail: the browser's first choice, if it names one sensibly."""
    first = (accept_language or "").split(",")[0].split(";")[0].strip()
    return first[:16] if LOCALE.fullmatch(first) else DEFAULT_LOCALE


async def request_sign_in_link(
    *, email: str | None, client: str, locale: str, now: datetime, signing_secret: str
) -> None:
    """Write a link and its mail for ``email`` (see the module: the same for every address).

    Raises ``DomainError`` (VALIDATION_FAILED) for a malformed address and ``SignInThrottled``
    when ``client`` asked for too many links.
    """
    address = clean_email("email", email)
    if address is None:
        raise validation_failed("email", "email is required.")
    address = address.lower()
    client = client[:64]
    async with in_transaction():
        recent = SignInLink.filter(client_address=client, created_at__gt=now - CLIENT_WINDOW).order_by("created_at")
        from_client: list[datetime] = [row["created_at"] for row in await recent.values("created_at")]
        if len(from_client) >= LINKS_PER_CLIENT:
            # The window frees a place when the oldest of the last LINKS_PER_CLIENT leaves it.
            oldest = from_client[len(from_client) - LINKS_PER_CLIENT]
            raise SignInThrottled(max(1, int((oldest + CLIENT_WINDOW - now).total_seconds()) + 1))
        to_address = await SignInLink.filter(email=address, created_at__gt=now - LINK_LIFETIME).count()
        if to_address >= LINKS_PER_ADDRESS:
            return
        link_id = uuid.uuid4()
        await SignInLink.create(
            id=link_id,
            email=address,
            secret_hash=hash_secret(link_secret(signing_secret, str(link_id))),
            client_address=client,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
        # Essential (a person asked for it) and about no case; no user yet, so no unsubscribe link.
        await MailDelivery.create(
            id=uuid.uuid4(),
            event_sequence=None,
            notification_id=None,
            case_id=None,
            recipient=address,
            user_id=None,
            template=SIGN_IN_TEMPLATE,
            locale=locale,
            essential=True,
            facts={"link_id": str(link_id), "minutes": int(LINK_LIFETIME.total_seconds() // 60)},
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )


def constituent_only(user: User) -> bool:
    """Whether the user holds no role but CONSTITUENT (a user with no roles yet counts as one)."""
    return set(user.roles) <= {Role.CONSTITUENT.value}


async def signs_in_elsewhere(address: str) -> bool:
    """Whether the address belongs to staff (a user with a role besides CONSTITUENT): while an
    identity provider is configured, they sign in there, not by a mailed link."""
    user = await User.filter(email__iexact=address).first()
    return user is not None and not constituent_only(user)


async def open_sign_in_link(*, secret: str, now: datetime, constituents_only: bool = False) -> SignedIn:
    """Use a link once: its address's user (provisioned on first use) gets a new session.

    ``constituents_only`` (an identity provider is configured): a link signs in no staff member —
    possessing a mailbox is not enough for staff roles; their organisation's sign-in is."""
    async with in_transaction():
        # The conditional UPDATE is the claim: of two openings at once, one changes the row.
        claimed = await SignInLink.filter(
            secret_hash=hash_secret(secret), used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if not claimed:
            raise SignInRefused("This sign-in link is not valid: it was used already, has expired, or is unknown.")
        link = await SignInLink.get(secret_hash=hash_secret(secret))
        user = await _user_of(link.email, now)
        if not user.active:
            raise SignInRefused("This account is deactivated.")
        if constituents_only and not constituent_only(user):
            raise StaffSignInElsewhere("Staff sign in with their organisation's account, not with a mailed link.")
        return await start_session(user, family=uuid.uuid4(), now=now)


async def _user_of(address: str, now: datetime) -> User:
    """The user the address is bound to, or a new ``CONSTITUENT`` bound to it (proven by the link)."""
    found = await User.filter(email__iexact=address).first()
    if found is not None:
        return found
    try:
        # A savepoint: a concurrent first sign-in binding the address leaves our transaction usable.
        async with in_transaction():
            return await User.create(
                id=str(uuid.uuid4()),
                email=address,
                roles=[Role.CONSTITUENT.value],
                created_at=now,
                updated_at=now,
            )
    except IntegrityError:
        return await User.get(email__iexact=address)


def _roles(user: User) -> tuple[Role, ...]:
    known = tuple(Role(raw) for raw in user.roles if raw in Role._value2member_map_)
    return known or (Role.CONSTITUENT,)


def successor_token(signing_secret: str, token: str) -> str:
    """The refresh token that follows ``token``: only the server can derive it from ``token``."""
    digest = hmac.new(signing_secret.encode(), f"refresh-successor:{token}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


async def start_session(user: User, *, family: uuid.UUID, now: datetime, token: str | None = None) -> SignedIn:
    token = token or secrets.token_urlsafe(32)
    await BrowserSession.create(
        id=uuid.uuid4(),
        family=family,
        user_id=user.id,
        token_hash=hash_secret(token),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    return SignedIn(
        user_id=user.id,
        roles=_roles(user),
        name=user.name,
        email=user.email,
        refresh_token=token,
        session=str(family),
    )


async def refresh_session(*, token: str, now: datetime, signing_secret: str) -> SignedIn:
    """Retire ``token`` and issue its successor; a retired token presented again revokes its family
    (within ``REUSE_GRACE`` of its retirement: the same successor again, see the module)."""
    async with in_transaction():
        row = await BrowserSession.get_or_none(token_hash=hash_secret(token))
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise SignInRefused("The session has ended: sign in again.")
        # The conditional UPDATE is the claim: of two refreshes at once, one retires the token
        # (on PostgreSQL the other waits for its commit, then finds the successor written).
        retired = await BrowserSession.filter(id=row.id, rotated_at__isnull=True, revoked_at__isnull=True).update(
            rotated_at=now
        )
        user = await User.get_or_none(id=row.user_id)
        if retired and user is not None and user.active:
            return await start_session(user, family=row.family, now=now, token=successor_token(signing_secret, token))
        if user is not None and user.active:
            again = await _successor_within_grace(user, token, now=now, signing_secret=signing_secret)
            if again is not None:
                return again
    # Reuse: the token was retired before (or by a concurrent refresh). Revoked in a transaction
    # of its own, so the revocation stands although the refresh is refused.
    await revoke_family(row.family, now=now)
    raise SignInRefused("The session has ended: sign in again.", ended_session=str(row.family))


async def _successor_within_grace(user: User, token: str, *, now: datetime, signing_secret: str) -> SignedIn | None:
    """The live successor of ``token`` when it was retired within ``REUSE_GRACE`` (following a
    few successors retired as recently); None: a reuse."""
    current = token
    for _ in range(GRACE_STEPS):
        retired = await BrowserSession.get_or_none(token_hash=hash_secret(current))
        if retired is None or retired.revoked_at is not None or retired.rotated_at is None:
            return None
        if retired.rotated_at <= now - REUSE_GRACE:
            return None
        following = successor_token(signing_secret, current)
        successor = await BrowserSession.get_or_none(token_hash=hash_secret(following))
        if successor is None or successor.revoked_at is not None or successor.expires_at <= now:
            return None
        if successor.rotated_at is None:
            return SignedIn(
                user_id=user.id,
                roles=_roles(user),
                name=user.name,
                email=user.email,
                refresh_token=following,
                session=str(successor.family),
            )
        current = following
    return None


async def revoke_family(family: uuid.UUID, *, now: datetime) -> int:
    return await BrowserSession.filter(family=family, revoked_at__isnull=True).update(revoked_at=now)


async def sign_out(*, token: str, now: datetime) -> str | None:
    """End the session ``token`` belongs to (every token of its family): the session ended, or
    None when there is no such session."""
    row = await BrowserSession.get_or_none(token_hash=hash_secret(token))
    if row is None:
        return None
    await revoke_family(row.family, now=now)
    return str(row.family)


async def session_alive(session: str) -> bool:
    """Whether the browser session (a family) still has a token not revoked: access tokens
    issued for it count only while it does."""
    try:
        family = uuid.UUID(session)
    except ValueError:
        return False
    return await BrowserSession.filter(family=family, revoked_at__isnull=True).exists()


async def ended_sessions(sessions: Iterable[str]) -> set[str]:
    """Of ``sessions``, those with no token left unrevoked (signed out, reused, deactivated)."""
    families = {str(family) for family in sessions}
    wanted = [uuid.UUID(family) for family in families if _is_uuid(family)]
    alive: set[str] = set()
    for start in range(0, len(wanted), 500):
        rows = await BrowserSession.filter(family__in=wanted[start : start + 500], revoked_at__isnull=True).values_list(
            "family", flat=True
        )
        alive.update(str(family) for family in rows)
    return families - alive


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


async def set_user_active(*, actor: Actor, user_id: str, active: bool, now: datetime) -> tuple[User, int]:
    """ADMIN: (de)activate a user; deactivating revokes every session of theirs, in the same
    transaction. Returns the user and how many session tokens were revoked."""
    if not actor.has(Role.ADMIN):
        raise permission_denied("Only an administrator may do that.")
    if not active and user_id == actor.user_id:
        raise validation_failed("userId", "Administrators cannot deactivate themselves.")
    key = lookup_key(user_id, 255)
    async with in_transaction():
        if key is None or not await User.filter(id=key).update(active=active, updated_at=now):
            raise not_found("User")
        revoked = 0 if active else await revoke_user_sessions(user_id=key, now=now)
        return await User.get(id=key), revoked


async def revoke_user_sessions(*, user_id: str, now: datetime) -> int:
    """End every session of the user (their deactivation); returns how many tokens were revoked."""
    return await BrowserSession.filter(user_id=user_id, revoked_at__isnull=True).update(revoked_at=now)
