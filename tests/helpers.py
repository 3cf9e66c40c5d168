"""Test helpers: a controllable clock, a recording publisher, a GraphQL client, a small world."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
from tortoise.backends.base.client import BaseDBAsyncClient

from casegraph._compat.tortoise_statement_log import counted_statements as counted_statements
from casegraph.auth import issue_token
from casegraph.database.counters import CASE_NUMBER, CASE_NUMBER_START, next_value
from casegraph.domain.enums import CaseStage, CaseStatus, Role, Workflow
from casegraph.domain.lifecycle import State
from casegraph.domain.priority import derive_priority
from casegraph.domain.relations import Actor
from casegraph.services import admin
from casegraph.services.records import CASE_COLUMNS, CaseRecord, EventRecord
from casegraph.services.users import Claims, build_actor, provision
from casegraph.settings import Settings
from models import Case, CaseEvent, CaseType


class FakeClock:
    """Moves only when told (and by ``step`` per reading, so event times are distinct)."""

    def __init__(self, start: datetime, step: timedelta = timedelta(0)) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class RecordingPublisher:
    events: list[EventRecord] = field(default_factory=list)

    async def published(self, events: Sequence[EventRecord]) -> None:
        self.events.extend(events)


@dataclass
class GraphQLClient:
    http: httpx.AsyncClient
    settings: Settings

    def token(self, sub: str, *roles: Role, name: str | None = None, agency: str | None = None) -> str:
        return issue_token(self.settings, sub=sub, roles=list(roles), name=name or sub.title(), agency=agency)

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=all_headers
        )

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """The JSON body; asserts the HTTP exchange itself succeeded."""
        response = await self.post(query, variables, token=token)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """``data`` of a response that must have no top-level errors."""
        body = await self.execute(query, variables, token=token)
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data


@dataclass(frozen=True)
class Person:
    sub: str
    roles: tuple[Role, ...]
    name: str

    def claims(self) -> Claims:
        return Claims(sub=self.sub, roles=frozenset(self.roles), name=self.name, email=f"{self.sub}@example.org")


PEOPLE = {
    "requester": Person("alice", (Role.CONSTITUENT,), "Alice"),
    "other_constituent": Person("bob", (Role.CONSTITUENT,), "Bob"),
    "agent": Person("dana", (Role.AGENT,), "Dana"),
    "other_agent": Person("eli", (Role.AGENT,), "Eli"),
    "outsider_agent": Person("grace", (Role.AGENT,), "Grace"),
    "manager": Person("maria", (Role.MANAGER,), "Maria"),
    "outsider_manager": Person("oscar", (Role.MANAGER,), "Oscar"),
    "field_agent": Person("finn", (Role.FIELD_AGENT,), "Finn"),
    "other_field_agent": Person("fay", (Role.FIELD_AGENT,), "Fay"),
    "admin": Person("ada", (Role.ADMIN,), "Ada"),
}


@dataclass
class World:
    """People (by role name in PEOPLE), their actors, and the ids of groups and case types.

    ROADS holds agent, other_agent and manager (as its manager); BENEFITS holds outsider_agent
    and outsider_manager. Case types: POTHOLE (public service, ROADS), QUESTION (customer
    service, ROADS), PAYMENT (customer service, BENEFITS).
    """

    actors: dict[str, Actor]
    people: dict[str, Person]
    group_ids: dict[str, int]
    case_type_ids: dict[str, int]
    clock: Any

    def actor(self, who: str) -> Actor:
        return self.actors[who]

    def sub(self, who: str) -> str:
        return self.people[who].sub

    def token(self, settings: Settings, who: str) -> str:
        person = self.people[who]
        return issue_token(
            settings, sub=person.sub, roles=list(person.roles), name=person.name, email=f"{person.sub}@example.org"
        )

    async def refresh(self, who: str) -> Actor:
        self.actors[who] = await build_actor(self.people[who].claims())
        return self.actors[who]


async def build_world(clock: Any) -> World:
    for person in PEOPLE.values():
        await provision(claims=person.claims(), now=clock())
    root = await build_actor(PEOPLE["admin"].claims())
    groups = {}
    for code, name in (("ROADS", "Roads"), ("BENEFITS", "Benefits")):
        groups[code] = (await admin.create_assignment_group(actor=root, code=code, name=name, now=clock())).id
    for who, group, manager in (
        ("agent", "ROADS", False),
        ("other_agent", "ROADS", False),
        ("manager", "ROADS", True),
        ("outsider_agent", "BENEFITS", False),
        ("outsider_manager", "BENEFITS", True),
    ):
        await admin.add_group_member(
            actor=root, group_code=group, user_id=PEOPLE[who].sub, is_manager=manager, now=clock()
        )
    types = {}
    for code, workflow, group in (
        ("POTHOLE", Workflow.PUBLIC_SERVICE, "ROADS"),
        ("QUESTION", Workflow.CUSTOMER_SERVICE, "ROADS"),
        ("PAYMENT", Workflow.CUSTOMER_SERVICE, "BENEFITS"),
    ):
        case_type = await admin.create_case_type(
            actor=root,
            code=code,
            name=code.title(),
            workflow=workflow,
            assignment_group_code=group,
            auto_assign=False,
            description=None,
            now=clock(),
        )
        types[code] = case_type.id
    actors = {who: await build_actor(person.claims()) for who, person in PEOPLE.items()}
    return World(actors=actors, people=dict(PEOPLE), group_ids=groups, case_type_ids=types, clock=clock)


async def insert_case(
    world: World,
    *,
    case_type: str = "POTHOLE",
    state: State = (CaseStage.INTAKE, CaseStatus.NEW),
    requester: str = "requester",
    author: str | None = None,
    assigned_to: str | None = "agent",
    inspector: str | None = None,
    remembered: State | None = None,
    solution_accepted: bool = False,
    title: str | None = "Pothole on Elm Street",
    deleted: bool = False,
) -> CaseRecord:
    """A case placed directly in ``state`` (with its creation event), for table-driven tests."""
    case_type_row = await CaseType.get(id=world.case_type_ids[case_type])
    now = world.clock()
    number = await next_value(CASE_NUMBER, start=CASE_NUMBER_START)
    if state[1] is CaseStatus.AWAITING_INFO and remembered is None:
        remembered = {
            CaseStage.INTAKE: (CaseStage.INTAKE, CaseStatus.OPEN),
            CaseStage.REVIEW: (CaseStage.REVIEW, CaseStatus.OPEN),
            CaseStage.PROCESS: (CaseStage.PROCESS, CaseStatus.WORK_IN_PROGRESS),
        }[state[0]]
    case = await Case.create(
        id=uuid.uuid4(),
        number=f"CS{number:07d}",
        title=title,
        description="Deep enough to lose a wheel.",
        stage=state[0],
        status=state[1],
        remembered_stage=remembered[0] if remembered else None,
        remembered_status=remembered[1] if remembered else None,
        workflow=case_type_row.workflow,
        case_type_id=case_type_row.id,
        assignment_group_id=case_type_row.assignment_group_id,
        impact=2,
        urgency=2,
        priority=derive_priority(2, 2),
        requester_id=world.sub(requester),
        author_id=world.sub(author or requester),
        assigned_to_id=world.sub(assigned_to) if assigned_to else None,
        inspector_id=world.sub(inspector) if inspector else None,
        solution_accepted=solution_accepted,
        version=1,
        deleted_at=now if deleted else None,
        created_at=now,
        updated_at=now,
    )
    sequence = await next_value("event_sequence")
    await CaseEvent.create(
        sequence=sequence,
        case_id=case.id,
        actor_id=world.sub(author or requester),
        type="CASE_CREATED",
        action="CREATE",
        to_stage=state[0],
        to_status=state[1],
        version=1,
        summary={},
        occurred_at=now,
    )
    rows = await Case.filter(id=case.id).values(*CASE_COLUMNS)
    return CaseRecord.from_row(rows[0])


async def case_row(case_id: str) -> CaseRecord:
    rows = await Case.filter(id=case_id).values(*CASE_COLUMNS)
    return CaseRecord.from_row(rows[0])


async def event_count(case_id: str | None = None) -> int:
    query = CaseEvent.filter(case_id=case_id) if case_id else CaseEvent.all()
    return await query.count()


# Schema that models cannot declare, hence absent from generate_schemas: created by its migration's SQL.
RAW_SQL_MIGRATIONS = (
    "0013_case_page_indexes",
    "0014_case_counts",
    "0021_scan_indexes",
    "0024_perf",
    "0025_constituents",
    "0027_case_search",
)


async def apply_raw_sql_migrations(client: BaseDBAsyncClient) -> None:
    """Runs the raw-SQL migrations (the page's partial indexes; maintained counts: table, triggers;
    the analytics' range indexes) on a database built by ``generate_schemas``, as ``migrate`` would."""
    for name in RAW_SQL_MIGRATIONS:
        migration = importlib.import_module(f"models.migrations.{name}")
        await migration.forward(None, SimpleNamespace(client=client))
