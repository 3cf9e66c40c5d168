"""Users are provisioned from token claims; actors carry their group memberships."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from casegraph._compat.tortoise_models import connection_for
from casegraph.domain.enums import Role
from casegraph.domain.relations import Actor
from models import GroupMembership, User


@dataclass(frozen=True)
class Claims:
    sub: str
    roles: frozenset[Role]
    name: str | None = None
    email: str | None = None
    agency: str | None = None
    # Seconds since the epoch from which the verifier refuses the token (its ``exp`` plus the
    # leeway): a WebSocket authenticated with it is closed then (casegraph/fanout/sessions.py).
    valid_until: float | None = None
    # The browser session (the refresh token family, services/sign_in.py) the token was issued
    # for, from its ``sid`` claim: signing out of it ends the token's use everywhere at once.
    session: str | None = None


# An actor's groups and the groups of those they manage.
Memberships = tuple[frozenset[int], frozenset[int]]


# Provisioning writes only when the claims changed; this remembers what each process last wrote.
_last_provisioned: dict[str, tuple[object, ...]] = {}


async def provision(*, claims: Claims, now: datetime) -> None:
    """Create or refresh the user row from the token's claims (api.md *Authentication*)."""
    fingerprint = (sorted(r.value for r in claims.roles), claims.name, claims.email, claims.agency)
    if _last_provisioned.get(claims.sub) == fingerprint:
        return
    # Optional claims refresh the row only when present: a token without `name` must not
    # erase the name an earlier token (or the identity provider's profile) supplied.
    values: dict[str, Any] = {"roles": fingerprint[0], "updated_at": now}
    for column, value in (("name", claims.name), ("email", claims.email), ("agency", claims.agency)):
        if value is not None:
            values[column] = value
    # An address already bound to another user stays theirs: mail from it (e-mail intake) must
    # keep reaching the person it reached before, whatever a later token claims.
    if claims.email is not None and await User.filter(email__iexact=claims.email).exclude(id=claims.sub).exists():
        del values["email"]
    try:
        await _write_user(claims.sub, values, now)
    except IntegrityError:
        if "email" not in values:
            raise
        # Another user bound the address between our check and our write (the database's unique
        # index on the lower-cased address refused ours, migration 0012): it stays theirs.
        del values["email"]
        await _write_user(claims.sub, values, now)
    _last_provisioned[claims.sub] = fingerprint


async def _write_user(user_id: str, values: dict[str, Any], now: datetime) -> None:
    updated = await User.filter(id=user_id).update(**values)
    if not updated:
        try:
            await User.create(id=user_id, created_at=now, **values)
        except IntegrityError:
            # A concurrent first request created the user; ours only has to refresh it. No such
            # user: it was the address that was taken.
            if not await User.filter(id=user_id).update(**values):
                raise


def forget_provisioned() -> None:
    """Tests use fresh databases; the per-process cache must not outlive them."""
    _last_provisioned.clear()


async def ensure_user(*, user_id: str, now: datetime) -> None:
    """A user id not seen yet (named by an administrator) is provisioned empty."""
    try:
        await User.get_or_create(id=user_id, defaults={"created_at": now, "updated_at": now, "roles": []})
    except IntegrityError:
        pass


async def read_actor_facts(user_id: str) -> tuple[bool, frozenset[int], frozenset[int]]:
    """Whether the user is active, and their memberships: one fixed statement, as every request
    asks (the user's row joined to their memberships; no row: a user not provisioned, active)."""
    connection = connection_for(GroupMembership)
    placeholder = "?" if connection.capabilities.dialect == "sqlite" else "$1"
    rows = await connection.execute_query_dict(
        'SELECT u."active" AS "active", m."group_id" AS "group_id", m."is_manager" AS "is_manager" '
        'FROM "users" u LEFT JOIN "group_memberships" m ON m."user_id" = u."id" '
        f'WHERE u."id"={placeholder}',
        [user_id],
    )
    active = bool(rows[0]["active"]) if rows else True
    groups = frozenset(int(row["group_id"]) for row in rows if row["group_id"] is not None)
    managed = frozenset(int(row["group_id"]) for row in rows if row["group_id"] is not None and row["is_manager"])
    return active, groups, managed


async def read_memberships(user_id: str) -> Memberships:
    # Every request and connection asks this: a fixed statement, not a query built each time.
    connection = connection_for(GroupMembership)
    placeholder = "?" if connection.capabilities.dialect == "sqlite" else "$1"
    rows = await connection.execute_query_dict(
        f'SELECT "group_id","is_manager" FROM "group_memberships" WHERE "user_id"={placeholder}', [user_id]
    )
    groups = frozenset(int(row["group_id"]) for row in rows)
    managed = frozenset(int(row["group_id"]) for row in rows if row["is_manager"])
    return groups, managed


class UserDeactivated(Exception):
    """The token is good but its user was deactivated by an administrator."""


async def build_actor(claims: Claims, *, refuse_deactivated: bool = False) -> Actor:
    """The actor of the claims, with their memberships; ``refuse_deactivated``: raise
    ``UserDeactivated`` for a deactivated user (authentication does; mentions and intake don't)."""
    active, groups, managed = await read_actor_facts(claims.sub)
    if refuse_deactivated and not active:
        raise UserDeactivated(f"The user {claims.sub!r} is deactivated.")
    return Actor(
        user_id=claims.sub,
        roles=claims.roles,
        group_ids=groups,
        managed_group_ids=managed,
        agency=claims.agency,
        name=claims.name,
        email=claims.email,
    )


async def claims_of_user(user_id: str, *, session: str | None) -> Claims | None:
    """Claims as the user's row says now (roles included), for a request that names the user
    without a token (the download cookie, casegraph/download_cookie.py); None: no such user."""
    user = await User.get_or_none(id=user_id)
    if user is None:
        return None
    roles = frozenset(Role(raw) for raw in user.roles if raw in Role._value2member_map_)
    return Claims(
        sub=user.id,
        roles=roles or frozenset({Role.CONSTITUENT}),
        name=user.name,
        email=user.email,
        agency=user.agency,
        session=session,
    )
