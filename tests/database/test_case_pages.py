"""The cases page of disjoint visibility branches merged in order (database/case_pages.py) is the
page of the single visibility condition it replaces: the same cases in the same order.

The reference below is the statement ``list_cases`` sent before: visible AND filter, the cursor
as ``col < v OR (col = v AND id < last)``, ORDER BY col, id, LIMIT n + 1. Random actors, filters,
orderings, page sizes and cursors (every page of a walk) on a varied data set, on both backends.
The branches themselves must be disjoint and their union exactly the visible cases, or a case
would show twice or not at all (and totals summed over them would be wrong).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any, Final

from tortoise.context import TortoiseContext
from tortoise.expressions import Q

from casegraph.domain.enums import CaseStage, CaseStatus, Role
from casegraph.domain.relations import Actor
from casegraph.services.case_queries import CaseFilter, OrderField, Ordering, list_cases, page_request
from casegraph.services.users import build_actor
from casegraph.services.visibility import visibility_branches, visible_cases
from models import Case
from tests.perf.queue_dataset import PEOPLE, load_queue_dataset

NOW: Final = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CASES: Final = 90
ROUNDS: Final = 60


async def reference_page(
    actor: Actor, flt: CaseFilter, ordering: Ordering, first: int, after: str | None
) -> tuple[list[str], bool]:
    """Ids of the page and whether more follow, as the single condition gave them."""
    request = await page_request(actor=actor, flt=flt, ordering=ordering, first=first, after=after, max_page=100)
    query = request.matching
    column = ordering.field.value
    if request.after is not None:
        value, last_id = request.after
        if ordering.descending:
            query = query.filter(Q(**{f"{column}__lt": value}) | Q(**{column: value, "id__lt": last_id}))
        else:
            query = query.filter(Q(**{f"{column}__gt": value}) | Q(**{column: value, "id__gt": last_id}))
    sign = "-" if ordering.descending else ""
    ids = [
        str(i)
        for i in await query.order_by(f"{sign}{column}", f"{sign}id").limit(first + 1).values_list("id", flat=True)
    ]
    return ids[:first], len(ids) > first


def random_filter(rng: random.Random, actor: Actor) -> CaseFilter:
    statuses = tuple(rng.sample(list(CaseStatus), rng.randint(1, 4))) if rng.random() < 0.6 else ()
    return CaseFilter(
        statuses=statuses,
        stages=tuple(rng.sample(list(CaseStage), 2)) if rng.random() < 0.15 else (),
        assignment_group_codes=("QA_ROADS",) if rng.random() < 0.1 else (),
        # The filters a page is walked from (requester, assignee, case types), also naming nothing.
        requester_id=rng.choice([PEOPLE["constituent"].sub, "qa-citizen-1", "nobody"]) if rng.random() < 0.2 else None,
        case_type_codes=tuple(rng.sample(["QA_POTHOLE", "QA_TREE", "QA_NONE"], rng.randint(1, 2)))
        if rng.random() < 0.2
        else (),
        assigned_to_id=rng.choice([PEOPLE["agent"].sub, PEOPLE["field_agent"].sub]) if rng.random() < 0.1 else None,
        unassigned=rng.choice([True, False]) if rng.random() < 0.15 else None,
        priorities=tuple(rng.sample(range(1, 6), 2)) if rng.random() < 0.2 else (),
        # No text: a text filter is a search (database/case_search.py), ranked and paged on its own
        # (tests/graphql/test_case_search.py), not a branch walk in the page's order.
        include_deleted=actor.has(Role.ADMIN) and rng.random() < 0.3,
    )


async def test_the_branched_page_is_the_page_of_the_single_condition(db: TortoiseContext) -> None:
    # given
    await load_queue_dataset(cases=CASES, now=NOW, seed=16)
    actors = [await build_actor(person.claims()) for person in PEOPLE.values()]
    rng = random.Random(16)
    compared = 0
    for _ in range(ROUNDS):
        actor = rng.choice(actors)
        flt = random_filter(rng, actor)
        ordering = Ordering(rng.choice(list(OrderField)), rng.choice([True, False]))
        first = rng.randint(1, 9)
        after: str | None = None
        # when every page of the walk is asked for
        for _page in range(30):
            page = await list_cases(actor=actor, flt=flt, ordering=ordering, first=first, after=after, max_page=100)
            expected, more = await reference_page(actor, flt, ordering, first, after)
            # then
            assert ([r.id for r in page.records], page.has_next) == (expected, more), (actor, flt, ordering, after)
            compared += 1
            if not page.has_next:
                break
            after = page.cursors[-1]
    assert compared > ROUNDS  # the walks went past their first pages


async def test_the_branches_of_each_actor_are_disjoint_and_make_up_the_visible_cases(db: TortoiseContext) -> None:
    # given
    await load_queue_dataset(cases=CASES, now=NOW, seed=17)
    for person in PEOPLE.values():
        actor = await build_actor(person.claims())
        visible = sorted(str(i) for i in await visible_cases(actor).values_list("id", flat=True))
        # when
        seen: list[str] = []
        for branch in visibility_branches(actor):
            seen.extend(str(i) for i in await Case.filter(branch.condition).values_list("id", flat=True))
        # then
        assert visible, person
        assert sorted(seen) == visible, person


async def test_a_page_of_a_status_filter_is_made_of_that_status_s_branches(db: TortoiseContext) -> None:
    # given an agent of two groups and the dashboard's open statuses
    await load_queue_dataset(cases=30, now=NOW, seed=18)
    actor = await build_actor(PEOPLE["agent"].claims())
    open_statuses = (CaseStatus.NEW, CaseStatus.OPEN)
    # when
    branches = visibility_branches(actor, open_statuses)
    # then one index-ordered branch per status of the agent's assignments and of each group,
    # between the agent's own drafts and the cases they requested
    ordered: list[Any] = [b for b in branches if b.index_ordered]
    assert len(ordered) == (1 + len(actor.group_ids)) * len(open_statuses)
    assert [b.index_ordered for b in branches] == [False, *[True] * len(ordered), False]
