"""Intake by staff (issue 19): the rules of services/constituents.py, on both backends —
registrations deduplicated by address and number, refused to constituents, found again by a
later sign-in, and the desk's bounded search of known constituents."""

from __future__ import annotations

import json

import pytest
from tortoise import connections
from tortoise.context import TortoiseContext

from casegraph.domain.constituents import SEARCH_LIMIT, new_constituent
from casegraph.domain.enums import ErrorCode, Role
from casegraph.domain.errors import DomainError
from casegraph.domain.relations import Actor
from casegraph.services import constituents, oidc_sign_in, sign_in
from casegraph.services.oidc_sign_in import Identity
from models import BrowserSession, MailDelivery, User
from tests.helpers import FakeClock

AGENT = Actor(user_id="agent-1", roles=frozenset({Role.AGENT}))
ADMIN = Actor(user_id="admin-1", roles=frozenset({Role.ADMIN}))
CONSTITUENT = Actor(user_id="citizen-1", roles=frozenset({Role.CONSTITUENT}))
SECRET = "signing-secret-of-these-tests"


async def register(
    clock: FakeClock, name: str, *, email: str | None = None, phone: str | None = None, actor: Actor = AGENT
) -> constituents.Registration:
    command = new_constituent(name=name, email=email, phone=phone)
    return await constituents.register_constituent(actor=actor, command=command, now=clock())


async def test_a_new_caller_becomes_a_constituent_without_password_or_session(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # when
    registration = await register(clock, "  Rosa Díaz ", email="Rosa.Diaz@Example.org", phone="+1 (555) 010-2030")
    # then
    assert registration.existing is False
    user = await User.get(id=registration.user.id)
    assert (user.name, user.email, user.phone, user.phone_digits, user.roles) == (
        "Rosa Díaz",
        "rosa.diaz@example.org",
        "+1 (555) 010-2030",
        "15550102030",
        ["CONSTITUENT"],
    )
    assert await BrowserSession.filter(user_id=user.id).count() == 0


async def test_a_known_address_in_any_case_or_a_known_number_in_any_spelling_returns_the_same_person(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # given
    first = await register(clock, "Rosa Díaz", email="rosa@example.org", phone="555 010 2030")
    # when
    by_address = await register(clock, "R. Díaz", email="ROSA@example.ORG")
    by_number = await register(clock, "Rosa", phone="(555) 010-2030", actor=ADMIN)
    # then: one person, and nothing of theirs changed
    assert (by_address.existing, by_number.existing) == (True, True)
    assert by_address.user.id == by_number.user.id == first.user.id
    assert await User.all().count() == 1
    assert (await User.get(id=first.user.id)).name == "Rosa Díaz"


async def test_a_staff_members_address_is_not_registered_as_a_caller(db: TortoiseContext, clock: FakeClock) -> None:
    # given
    await User.create(
        id="agent-2", email="agent2@city.example", roles=["AGENT"], created_at=clock(), updated_at=clock()
    )
    # when / then
    with pytest.raises(DomainError) as refused:
        await register(clock, "Someone", email="Agent2@city.example")
    assert (refused.value.code, refused.value.field) == (ErrorCode.VALIDATION_FAILED, "email")
    assert await User.all().count() == 1


@pytest.mark.parametrize("role", [Role.CONSTITUENT, Role.FIELD_AGENT])
async def test_only_agents_managers_and_administrators_register_and_nothing_is_written_otherwise(
    db: TortoiseContext, clock: FakeClock, role: Role
) -> None:
    actor = Actor(user_id="someone", roles=frozenset({role}))
    with pytest.raises(DomainError) as refused:
        await register(clock, "Mallory", email="mallory@example.org", actor=actor)
    assert refused.value.code == ErrorCode.PERMISSION_DENIED
    assert await User.all().count() == 0


@pytest.mark.parametrize(
    ("name", "email", "phone", "field"),
    [
        ("   ", "a@example.org", None, "name"),
        ("Ana", "not-an-address", None, "email"),
        ("Ana", None, None, "email"),
        ("Ana", None, "call me", "phone"),
        ("Ana", None, "12", "phone"),
    ],
)
def test_bad_registrations_are_refused_naming_the_field(
    name: str, email: str | None, phone: str | None, field: str
) -> None:
    with pytest.raises(DomainError) as refused:
        new_constituent(name=name, email=email, phone=phone)
    assert (refused.value.code, refused.value.field) == (ErrorCode.VALIDATION_FAILED, field)


async def test_a_registered_caller_who_signs_in_by_mailed_link_lands_on_the_same_account(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # given
    registration = await register(clock, "Rosa Díaz", email="rosa@example.org")
    # when: they ask for a link with their address spelled otherwise, and open it
    await sign_in.request_sign_in_link(
        email="Rosa@Example.org", client="192.0.2.1", locale="en", now=clock(), signing_secret=SECRET
    )
    mail = await MailDelivery.filter(template="sign_in").get()
    signed_in = await sign_in.open_sign_in_link(
        secret=sign_in.link_secret(SECRET, str(mail.facts["link_id"])), now=clock()
    )
    # then
    assert signed_in.user_id == registration.user.id
    assert await User.all().count() == 1


async def test_a_registered_caller_who_signs_in_with_the_identity_provider_lands_on_the_same_account(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # given
    registration = await register(clock, "Rosa Díaz", email="rosa@example.org", phone="5550102030")
    # when
    identity = Identity(
        issuer="https://id.city.example",
        subject="rosa-at-provider",
        email="rosa@example.org",
        name="Rosa Díaz Ortega",
        roles=(Role.CONSTITUENT,),
    )
    signed_in = await oidc_sign_in.sign_in_with_identity(identity, now=clock())
    # then: the same account, which keeps the number staff took down
    assert signed_in.user_id == registration.user.id
    user = await User.get(id=registration.user.id)
    assert (user.name, user.phone) == ("Rosa Díaz Ortega", "5550102030")


async def test_the_search_finds_constituents_by_a_prefix_of_name_address_or_number(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # given
    rosa = (await register(clock, "Rosa Díaz", email="rdiaz@example.org", phone="555-010-2030")).user
    rob = (await register(clock, "Robert Lane", email="bob@example.org", phone="555-777-0000")).user
    await User.create(id="agent-3", name="Rosalind Agent", roles=["AGENT"], created_at=clock(), updated_at=clock())
    # when / then
    assert [u.id for u in await constituents.find_constituents(actor=AGENT, text="ro")] == [rob.id, rosa.id]
    assert [u.id for u in await constituents.find_constituents(actor=AGENT, text="ROSA")] == [rosa.id]
    assert [u.id for u in await constituents.find_constituents(actor=AGENT, text="bob@")] == [rob.id]
    assert [u.id for u in await constituents.find_constituents(actor=AGENT, text="(555) 01")] == [rosa.id]
    assert [u.id for u in await constituents.find_constituents(actor=AGENT, text="555")] == [rob.id, rosa.id]
    assert await constituents.find_constituents(actor=AGENT, text="r") == []


async def test_the_search_is_bounded_and_refused_to_constituents(db: TortoiseContext, clock: FakeClock) -> None:
    # given
    for index in range(SEARCH_LIMIT + 5):
        await register(clock, f"Sam {index:02d}", phone=f"555-100-{index:04d}")
    # when / then
    assert len(await constituents.find_constituents(actor=AGENT, text="sam")) == SEARCH_LIMIT
    with pytest.raises(DomainError) as refused:
        await constituents.find_constituents(actor=CONSTITUENT, text="sam")
    assert refused.value.code == ErrorCode.PERMISSION_DENIED


async def test_a_repeat_with_the_idempotency_key_gets_the_first_answer_and_another_input_is_refused(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # given
    command = new_constituent(name="Rosa Díaz", email="rosa@example.org", phone=None)
    first = await constituents.register_constituent(actor=AGENT, command=command, now=clock(), idempotency_key="k-1")
    # when: the same request again (the answer was lost), then the key with another caller
    again = await constituents.register_constituent(actor=AGENT, command=command, now=clock(), idempotency_key="k-1")
    other = new_constituent(name="Someone Else", email="else@example.org", phone=None)
    with pytest.raises(DomainError) as refused:
        await constituents.register_constituent(actor=AGENT, command=other, now=clock(), idempotency_key="k-1")
    # then: the first answer, unchanged ("registered", not "known"), and one person
    assert (again.user.id, again.existing) == (first.user.id, False)
    assert (refused.value.code, refused.value.field) == (ErrorCode.VALIDATION_FAILED, "idempotencyKey")
    assert await User.all().count() == 1


async def test_the_search_reads_ranges_of_indexes_and_never_scans_the_users(
    db: TortoiseContext, clock: FakeClock
) -> None:
    # given: a directory of a few thousand people (enough for PostgreSQL's planner to prefer an
    # index when it can use one)
    await User.bulk_create(
        [
            User(
                id=f"person-{index}",
                name=f"Person {index:05d}",
                email=f"person{index}@example.org",
                phone=f"555-{index:07d}",
                phone_digits=f"555{index:07d}",
                roles=["CONSTITUENT"],
                created_at=clock(),
                updated_at=clock(),
            )
            for index in range(3000)
        ]
    )
    connection = connections.get("default")
    postgres = connection.capabilities.dialect == "postgres"
    if postgres:
        await connection.execute_script("ANALYZE users")
    # when
    plans = [
        json.dumps(await query.explain(), default=lambda row: [str(value) for value in row])
        for text in ("person 0001", "person12@", "5550000012")
        for query in constituents.search_queries(text)
    ]
    # then: each read is a search of an index, none a scan of the table
    assert len(plans) == 5
    for plan in plans:
        if postgres:
            assert "Seq Scan" not in plan and "Index" in plan, plan
        else:
            assert "SCAN users" not in plan and "USING INDEX" in plan, plan
