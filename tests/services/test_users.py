"""One user per e-mail address, whatever the timing (migration 0012, ``users.provision``).

``provision`` binds a token's address only when no other user holds it; simultaneous first
sign-ins claiming the same free address all passed that check and all bound it. The database's
unique index on the lower-cased address now lets exactly one bind it, and the others are
provisioned without it. The migration settles duplicates made before it: the first holder keeps
the address. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import importlib
from datetime import timedelta
from types import ModuleType

import pytest
from tortoise.context import TortoiseContext

from casegraph.domain.enums import Role
from casegraph.services.users import Claims, forget_provisioned, provision
from models import User
from tests.helpers import FakeClock

CONTENDERS = 6

migration: ModuleType = importlib.import_module("models.migrations.0012_unique_user_email")


async def execute(db: TortoiseContext, statements: list[str]) -> None:
    for sql in statements:
        await db.db().execute_query(sql)


@pytest.fixture
async def migrated(db: TortoiseContext, backend: str) -> TortoiseContext:
    """The test database with the index as migrations make it (SQLite tests build tables from the models)."""
    if backend == "sqlite":
        await execute(db, migration.UP)
    return db


async def test_simultaneous_first_sign_ins_claiming_one_free_address_bind_it_once(
    migrated: TortoiseContext, clock: FakeClock
) -> None:
    # given: six people signing in for the first time at once, all claiming one free address
    claims = [
        Claims(
            sub=f"newcomer-{n}",
            roles=frozenset({Role.CONSTITUENT}),
            name=f"Newcomer {n}",
            email="Shared@Example.org" if n % 2 else "shared@example.org",
        )
        for n in range(CONTENDERS)
    ]
    # when
    await asyncio.gather(*(provision(claims=claim, now=clock()) for claim in claims))
    # then: everyone is a user, and exactly one of them holds the address
    users = await User.filter(id__in=[claim.sub for claim in claims]).values_list("id", "email")
    assert len(users) == CONTENDERS
    holders = [user_id for user_id, email in users if email is not None]
    assert len(holders) == 1, users
    # and: a later sign-in of the others keeps it with the holder
    forget_provisioned()
    await asyncio.gather(*(provision(claims=claim, now=clock()) for claim in claims))
    assert await User.filter(email__iexact="shared@example.org").values_list("id", flat=True) == holders


async def test_the_migration_leaves_each_address_with_its_first_holder(
    migrated: TortoiseContext, clock: FakeClock
) -> None:
    # given: addresses bound twice before the index existed (the oldest user first)
    await execute(migrated, migration.DOWN)
    start = clock()
    rows = [
        ("bea", "bea@example.org", 0),
        ("bea-again", "BEA@example.org", 5),
        ("bea-third", "bea@example.org", 9),
        ("cal", "cal@example.org", 1),
        ("dee", None, 2),
        ("dee-too", None, 3),
    ]
    for user_id, email, minutes in rows:
        when = start + timedelta(minutes=minutes)
        await User.create(id=user_id, email=email, roles=[], created_at=when, updated_at=when)
    # when
    await execute(migrated, migration.UP)
    # then: the first holder keeps each address, the others lose it, nobody else changes
    emails = dict(await User.all().values_list("id", "email"))
    assert emails == {
        "bea": "bea@example.org",
        "bea-again": None,
        "bea-third": None,
        "cal": "cal@example.org",
        "dee": None,
        "dee-too": None,
    }
    # and: the index holds from now on
    with pytest.raises(Exception, match="(?i)unique"):
        await User.filter(id="cal").update(email="BEA@EXAMPLE.ORG")
