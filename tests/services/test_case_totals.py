"""totalCount from the maintained counts equals count(*) under the visibility condition, exactly.

``case_counts`` is kept by triggers on ``cases`` (migration 0014) and a total is assembled from it
plus per-user index lookups (``services.visible_counts``, ``database.case_counts``). Random
sequences of writes — through the ORM and as raw SQL, one row or many at a time: creates, group
moves, status and stage changes, referrals, soft deletes, restores, hard deletes, tasks — are
followed, for actors of every kind and the filters the counts carry, by the two totals side by
side; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import importlib
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, Final

import pytest
from tortoise.context import TortoiseContext
from tortoise.functions import Count

from casegraph._compat import tortoise_models
from casegraph.database.case_counts import count_total, group_status_counts
from casegraph.database.counters import CASE_NUMBER, CASE_NUMBER_START, next_value
from casegraph.domain.enums import CaseStage, CaseStatus, Role, TaskState, Workflow
from casegraph.domain.lifecycle import TERMINAL_STATUSES
from casegraph.domain.relations import Actor
from casegraph.services.case_queries import CaseFilter, Ordering, list_cases
from casegraph.services.visibility import visible_cases
from casegraph.services.visible_counts import count_scope
from models import Case, CaseTask
from tests.helpers import World

migration = importlib.import_module("models.migrations.0014_case_counts")

NOW: Final = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
AGENCIES: Final = (None, "CITY-WATER", "COUNTY-HEALTH")
STATUSES: Final = tuple(CaseStatus)
STAGES: Final = tuple(CaseStage)
USERS: Final = ("alice", "bob", "dana", "eli", "finn", "fay", "grace")


@dataclass
class Writer:
    """Random writes to ``cases`` (and ``case_tasks``), as any code path could make them."""

    world: World
    rng: random.Random
    ids: list[str]

    @property
    def groups(self) -> list[int | None]:
        return [None, *self.world.group_ids.values()]

    def user(self, *, optional: bool = False) -> str | None:
        return self.rng.choice([*USERS, *([None] * 2 if optional else [])])

    async def create(self) -> None:
        status = self.rng.choice(STATUSES)
        number = await next_value(CASE_NUMBER, start=CASE_NUMBER_START)
        case = await Case.create(
            id=uuid.uuid4(),
            number=f"CS{number:07d}",
            title="Random",
            stage=CaseStage.DRAFT if status is CaseStatus.DRAFT else self.rng.choice(STAGES[1:]),
            status=status,
            workflow=Workflow.PUBLIC_SERVICE,
            case_type_id=self.world.case_type_ids["POTHOLE"],
            assignment_group_id=self.rng.choice(self.groups),
            requester_id=self.user(),
            author_id=self.user(),
            assigned_to_id=self.user(optional=True),
            inspector_id=self.user(optional=True),
            referred_agency=self.rng.choice(AGENCIES),
            deleted_at=NOW if self.rng.random() < 0.15 else None,
            created_at=NOW,
            updated_at=NOW,
        )
        self.ids.append(str(case.id))

    async def step(self) -> None:
        if len(self.ids) < 4 or self.rng.random() < 0.3:
            await self.create()
            return
        case_id = self.rng.choice(self.ids)
        kind = self.rng.choice(("group", "status", "stage", "agency", "delete", "restore", "purge", "task", "bulk"))
        if kind == "group":
            await Case.filter(id=case_id).update(assignment_group_id=self.rng.choice(self.groups))
        elif kind == "status":
            await self.sql("UPDATE cases SET status={} WHERE id={}", self.rng.choice(STATUSES).value, case_id)
        elif kind == "stage":
            await self.sql("UPDATE cases SET stage={} WHERE id={}", self.rng.choice(STAGES).value, case_id)
        elif kind == "agency":
            await Case.filter(id=case_id).update(referred_agency=self.rng.choice(AGENCIES))
        elif kind == "delete":
            await Case.filter(id=case_id).update(deleted_at=NOW)
        elif kind == "restore":
            await Case.filter(id=case_id).update(deleted_at=None)
        elif kind == "purge":
            await CaseTask.filter(case_id=case_id).delete()
            await self.sql("DELETE FROM cases WHERE id={}", case_id)
            self.ids.remove(case_id)
        elif kind == "task":
            await CaseTask.create(
                case_id=case_id, title="Look", assignee_id=self.user(), state=TaskState.OPEN, created_at=NOW
            )
        else:  # many rows in one statement: one group's cases move to another status and group
            group = self.rng.choice(list(self.world.group_ids.values()))
            await Case.filter(assignment_group_id=group).update(
                status=self.rng.choice(STATUSES), assignment_group_id=self.rng.choice(self.groups)
            )

    async def sql(self, template: str, *values: Any) -> None:
        db = tortoise_models.connection_for(Case, for_write=True)
        marks = ["$" + str(i + 1) if db.capabilities.dialect == "postgres" else "?" for i in range(len(values))]
        await db.execute_query(template.format(*marks), list(values))


def actors(world: World, rng: random.Random) -> list[Actor]:
    roads, benefits = world.group_ids["ROADS"], world.group_ids["BENEFITS"]
    some_groups = frozenset(rng.sample([roads, benefits], rng.randint(0, 2)))
    user = rng.choice(USERS)
    return [
        Actor(user_id=user, roles=frozenset({Role.ADMIN})),
        Actor(user_id=user, roles=frozenset({Role.AGENT}), group_ids=some_groups),
        Actor(
            user_id=user,
            roles=frozenset({Role.MANAGER}),
            group_ids=frozenset({roads}),
            managed_group_ids=frozenset({roads}),
        ),
        Actor(user_id=user, roles=frozenset({Role.AGENT}), group_ids=frozenset({999_999})),  # a group with no cases
        Actor(user_id=user, roles=frozenset({Role.FIELD_AGENT})),
        Actor(user_id=user, roles=frozenset({Role.FIELD_AGENT, Role.AGENT}), group_ids=some_groups),
        Actor(user_id=user, roles=frozenset({Role.CONSTITUENT})),
        Actor(user_id=user, roles=frozenset({Role.PARTNER}), agency="CITY-WATER"),
        Actor(user_id=user, roles=frozenset({Role.PARTNER})),  # no agency: sees what a constituent sees
        Actor(user_id=user, roles=frozenset({Role.PARTNER, Role.AGENT}), group_ids=some_groups, agency="COUNTY-HEALTH"),
    ]


def filters(rng: random.Random) -> list[tuple[tuple[CaseStatus, ...], tuple[CaseStage, ...]]]:
    return [
        ((), ()),
        (tuple(rng.sample(STATUSES, rng.randint(1, 4))), ()),
        ((), tuple(rng.sample(STAGES, rng.randint(1, 2)))),
        (tuple(rng.sample(STATUSES, rng.randint(1, 6))), tuple(rng.sample(STAGES, rng.randint(1, 3)))),
        ((CaseStatus.DRAFT,), ()),
    ]


async def assert_totals_exact(world: World, rng: random.Random) -> None:
    db = tortoise_models.connection_for(Case)
    for group_id in world.group_ids.values():  # the live queue counters' recount (queue_counts)
        submitted = Case.filter(assignment_group_id=group_id, deleted_at__isnull=True).exclude(
            status__in=[CaseStatus.DRAFT, *TERMINAL_STATUSES]
        )
        rows = await submitted.annotate(n=Count("id")).group_by("status").values("status", "n")
        expected_by_status = {str(CaseStatus(row["status"]).value): int(row["n"]) for row in rows}
        excluded = [status.value for status in TERMINAL_STATUSES]
        assert await group_status_counts(db, group_id, excluded=excluded) == expected_by_status
    for actor in actors(world, rng):
        for statuses, stages in filters(rng):
            expected = visible_cases(actor)
            if statuses:
                expected = expected.filter(status__in=statuses)
            if stages:
                expected = expected.filter(stage__in=stages)
            counted = await count_total(db, count_scope(actor, statuses=statuses, stages=stages))
            assert counted == await expected.count(), (actor, statuses, stages)


@pytest.mark.parametrize("seed", range(4))
async def test_maintained_totals_equal_the_visible_count_after_random_writes_for_every_actor(
    world: World, seed: int
) -> None:
    # given a random history of writes by every path, checked along the way
    rng = random.Random(seed)
    writer = Writer(world, rng, [])
    for _ in range(6):
        for _ in range(15):
            await writer.step()
        # then the maintained total equals count(*) under the visibility condition, for everyone
        await assert_totals_exact(world, rng)


async def test_a_page_s_total_comes_from_the_counts_and_equals_its_rows_when_the_filter_allows(world: World) -> None:
    # given cases of both groups, some drafts, some deleted
    rng = random.Random(7)
    writer = Writer(world, rng, [])
    for _ in range(30):
        await writer.create()
    for actor in actors(world, rng):
        for flt in (CaseFilter(), CaseFilter(statuses=(CaseStatus.NEW, CaseStatus.OPEN)), CaseFilter(priorities=(3,))):
            # when a page is listed big enough to hold every visible case
            page = await list_cases(actor=actor, flt=flt, ordering=Ordering(), first=100, after=None, max_page=100)
            # then its total is the number of rows it shows
            assert page.total == len(page.records), (actor, flt)


async def test_the_migration_counts_the_cases_that_exist_before_it(db: TortoiseContext, world: World) -> None:
    # given cases written while no counts existed (the migration undone)
    client = tortoise_models.connection_for(Case, for_write=True)
    editor = SimpleNamespace(client=client)
    await migration.backward(None, editor)
    try:
        rng = random.Random(3)
        writer = Writer(world, rng, [])
        for _ in range(40):
            await writer.create()
    finally:
        # when the migration runs
        await migration.forward(None, editor)
    # then every existing case is counted, and the triggers go on from there
    await assert_totals_exact(world, rng)
    for _ in range(20):
        await writer.step()
    await assert_totals_exact(world, rng)


async def test_an_update_reports_its_own_rows_not_the_counts_its_triggers_wrote(world: World) -> None:
    # given two cases of one group
    writer = Writer(world, random.Random(1), [])
    for _ in range(2):
        await writer.create()
    await Case.all().update(status=CaseStatus.NEW, deleted_at=None, assignment_group_id=world.group_ids["ROADS"])
    # when one moves to another group and status (its triggers decrement one count, increment another)
    changed = await Case.filter(id=writer.ids[0]).update(
        status=CaseStatus.OPEN, assignment_group_id=world.group_ids["BENEFITS"]
    )
    # then one row changed, as the version check of every action expects (SQLite counted three)
    assert changed == 1
    assert await Case.all().update(status=CaseStatus.CLOSED) == 2
