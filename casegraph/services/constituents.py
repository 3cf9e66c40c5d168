"""Intake by staff (issue 19): registering a caller who has never signed in, and finding a known
one for the desk's "New case" form.

A registration is deduplicated: an e-mail address (regardless of case) or a phone number (by its
digits) that a constituent already has returns that constituent, so a second call from the same
person lands on the same account and history. A new caller becomes a ``CONSTITUENT`` without a
password or a session; a later sign-in by mailed link or identity provider with the same address
finds this user by that address (services/sign_in.py, services/oidc_sign_in.py) and signs them in
to it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.functions import Lower
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from casegraph.domain.constituents import SEARCH_LIMIT, NewConstituent, phone_digits, prefix_end, search_prefix
from casegraph.domain.enums import Role
from casegraph.domain.errors import permission_denied, validation_failed
from casegraph.domain.relations import Actor
from casegraph.services.idempotency import input_fingerprint, run_keyed
from models import User

INTAKE_ROLES = frozenset({Role.AGENT, Role.MANAGER, Role.ADMIN})


@dataclass(frozen=True)
class Registration:
    user: User
    # True when the caller was known already (by address or number): nothing was created.
    existing: bool


def require_intake_staff(actor: Actor, doing: str) -> None:
    """Refuses a constituent or partner before their input is even read: whether it was valid is
    none of their business."""
    if not actor.roles & INTAKE_ROLES:
        raise permission_denied(f"You may not {doing}: only agents, managers and administrators take calls.")


async def register_constituent(
    *, actor: Actor, command: NewConstituent, now: datetime, idempotency_key: str | None = None
) -> Registration:
    """The constituent the command's address or number names, or a new one registered with them.

    With ``idempotency_key`` (api.md *Idempotency*): a repeat gets the first answer back — the
    same person, and the same ``existing`` — and a refusal is kept as it was.
    """
    require_intake_staff(actor, "register constituents")
    if idempotency_key is None:
        return await _register(command, now, on_success=None)
    fingerprint = {"name": command.name, "email": command.email, "phone": command.phone}
    return await run_keyed(
        user_id=actor.user_id,
        key=idempotency_key,
        operation="registerConstituent",
        input_hash=input_fingerprint("registerConstituent", fingerprint),
        now=now,
        run=lambda store: _register(command, now, on_success=store),
        encode=lambda registration: {"user": registration.user.id, "existing": registration.existing},
        replay=_replayed,
    )


async def _replayed(response: dict[str, Any]) -> Registration:
    return Registration(user=await User.get(id=response["user"]), existing=bool(response["existing"]))


async def _register(
    command: NewConstituent, now: datetime, *, on_success: Callable[[Registration], Awaitable[None]] | None
) -> Registration:
    # One transaction: the idempotency record is stored with the user it names (or not at all).
    async with in_transaction():
        registration = await _known_or_created(command, now)
        if on_success is not None:
            await on_success(registration)
        return registration


async def _known_or_created(command: NewConstituent, now: datetime) -> Registration:
    known = await _known(command)
    if known is not None:
        return Registration(user=known, existing=True)
    try:
        # A savepoint: a concurrent registration (or first sign-in) binding the address first
        # makes the unique index on lower(email) refuse ours; theirs is then the known one.
        async with in_transaction():
            user = await User.create(
                id=str(uuid.uuid4()),
                name=command.name,
                email=command.email,
                phone=command.phone,
                phone_digits=command.phone_digits,
                roles=[Role.CONSTITUENT.value],
                created_at=now,
                updated_at=now,
            )
    except IntegrityError:
        known = await _known(command)
        if known is None:
            raise
        return Registration(user=known, existing=True)
    return Registration(user=user, existing=False)


async def _known(command: NewConstituent) -> User | None:
    """The user with the command's address, else the earliest with its number; staff are refused:
    a case's requester must be a member of the public (case_creation), and an agent must not
    learn that a colleague's address or number is in the directory by registering it."""
    found = None
    if command.email is not None:
        found = await User.filter(email__iexact=command.email).first()
    if found is None and command.phone_digits is not None:
        found = await User.filter(phone_digits=command.phone_digits).order_by("created_at", "id").first()
    if found is not None and Role.CONSTITUENT.value not in (found.roles or []):
        field = "email" if command.email is not None and (found.email or "").lower() == command.email else "phone"
        raise validation_failed(field, "This belongs to a staff account, not a member of the public.")
    return found


async def find_constituents(*, actor: Actor, text: str) -> list[User]:
    """Constituents whose name, e-mail address or phone number starts with ``text``, by name.

    Each key is read as a range of its index (users_name_lower, users_email_lower, phone_digits),
    never by scanning users; at most ``SEARCH_LIMIT`` of each, so the answer is bounded however
    common the prefix."""
    require_intake_staff(actor, "search the directory of constituents")
    prefix = search_prefix(text)
    if prefix is None:
        return []
    digits = phone_digits(prefix)
    found: dict[str, User] = {}
    for query in search_queries(prefix):
        for user in await query:
            found.setdefault(user.id, user)
    constituents = [
        user
        for user in found.values()
        if Role.CONSTITUENT.value in (user.roles or []) and user.active and _starts_with(user, prefix, digits)
    ]
    return sorted(constituents, key=lambda user: ((user.name or "").lower(), user.id))[:SEARCH_LIMIT]


def search_queries(prefix: str) -> list[QuerySet[User]]:
    """The reads a search makes: one range of one index per key the text can be (a number is
    looked up by its digits alone; other text by name and by address), each bounded."""
    digits = phone_digits(prefix)
    if len(digits) >= 2 and not any(character.isalpha() or character == "@" for character in prefix):
        return [
            User.filter(phone_digits__gte=digits, phone_digits__lt=prefix_end(digits))
            .order_by("phone_digits")
            .limit(SEARCH_LIMIT)
        ]
    return [
        User.annotate(key=Lower(column))
        .filter(key__gte=prefix, key__lt=prefix_end(prefix))
        .order_by("key")
        .limit(SEARCH_LIMIT)
        for column in ("name", "email")
    ]


def _starts_with(user: User, prefix: str, digits: str) -> bool:
    """The range read by the database's collation; this keeps only true prefix matches."""
    return (
        (user.name or "").lower().startswith(prefix)
        or (user.email or "").lower().startswith(prefix)
        or bool(digits and (user.phone_digits or "").startswith(digits))
    )
