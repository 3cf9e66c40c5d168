"""The compiled path answers exactly as the normal execution does (differential tests).

Every request is sent twice through the real HTTP stack: once as it is served (the compiled
path, which these tests check was taken) and once with planning switched off (the normal
per-field execution). Status and body must be equal byte for byte once parsed — for the
dashboard's queue query as every role sends it, and for Hypothesis-generated selections:
subsets of the Case fields and relations, aliases, named and inline fragments, ``@skip`` and
``@include`` on literals and variables, pages with ``after`` cursors, every ordering, filters,
deleted cases for ADMIN, and requests the service refuses (bad cursor, negative page, deleted
cases asked for by others) — on SQLite and PostgreSQL.

The clock does not move: SLA timers show time remaining "now", which must be the same instant
for both executions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casegraph.auth import issue_token
from casegraph.fastpath.executor import EXECUTIONS, PLANS
from casegraph.settings import Settings
from models import GroupMembership
from tests.helpers import FakeClock, GraphQLClient
from tests.perf.queue_dataset import PEOPLE, QueueDataset, load_queue_dataset
from tests.perf.queue_query import QUEUE_QUERY

FIELD_NAME: Final = re.compile(r"\w+")
NOW: Final = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CASES: Final = 70


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def queue(db: Any, clock: FakeClock) -> QueueDataset:
    return await load_queue_dataset(cases=CASES, now=NOW)


def token(settings: Settings, who: str, *, named: bool = True) -> str:
    person = PEOPLE[who]
    return issue_token(
        settings,
        sub=person.sub,
        roles=list(person.roles),
        name=person.name if named else None,
        email=f"{person.sub}@example.org" if named else None,
        agency=person.agency,
    )


@dataclass(frozen=True)
class Exchange:
    status: int
    body: dict[str, Any]


@dataclass
class BothWays:
    client: GraphQLClient
    monkeypatch: pytest.MonkeyPatch

    async def send(self, query: str, variables: dict[str, Any], bearer: str, *, planned: bool) -> Exchange:
        if planned:
            response = await self.client.post(query, variables, token=bearer)
        else:
            with self.monkeypatch.context() as patched:
                patched.setattr(PLANS, "get", lambda executor: None)
                response = await self.client.post(query, variables, token=bearer)
        return Exchange(response.status_code, response.json())

    async def compare(self, query: str, variables: dict[str, Any], bearer: str) -> Exchange:
        compiled_before, failed_before = EXECUTIONS["compiled"], EXECUTIONS["normal:failed"]
        fast = await self.send(query, variables, bearer, planned=True)
        took_compiled_path = EXECUTIONS["compiled"] > compiled_before
        # Falling back after a failure would make the comparison vacuous: it must not happen.
        assert EXECUTIONS["normal:failed"] == failed_before
        normal = await self.send(query, variables, bearer, planned=False)
        assert fast == normal, _difference(query, variables, fast, normal)
        return Exchange(fast.status, {**fast.body, "compiled": took_compiled_path})


def _difference(query: str, variables: dict[str, Any], fast: Exchange, normal: Exchange) -> str:
    return (
        f"\nquery: {query}\nvariables: {json.dumps(variables)}\ncompiled: {fast.status} "
        f"{json.dumps(fast.body, sort_keys=True)[:3000]}\nnormal:   {normal.status} "
        f"{json.dumps(normal.body, sort_keys=True)[:3000]}"
    )


@pytest.fixture
def both_ways(client: GraphQLClient, monkeypatch: pytest.MonkeyPatch) -> BothWays:
    return BothWays(client, monkeypatch)


@pytest.mark.parametrize("who", sorted(PEOPLE))
async def test_the_queue_query_is_compiled_and_answers_as_the_resolvers_do_for_every_role(
    both_ways: BothWays, queue: QueueDataset, settings: Settings, who: str
) -> None:
    # given / when
    answer = await both_ways.compare(QUEUE_QUERY, {"first": 50}, token(settings, who))
    # then: compiled, with data, and the page is what the role may see
    assert answer.body["compiled"]
    assert "errors" not in answer.body
    assert answer.body["data"]["cases"]["totalCount"] >= 0


async def test_every_page_of_the_queue_follows_the_cursors_as_the_resolvers_do(
    both_ways: BothWays, queue: QueueDataset, settings: Settings
) -> None:
    bearer = token(settings, "admin")
    after, pages = None, 0
    while True:
        answer = await both_ways.compare(QUEUE_QUERY, {"first": 9, "after": after}, bearer)
        connection = answer.body["data"]["cases"]
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert pages > 3


async def test_a_viewer_without_a_name_in_the_token_gets_the_stored_one_on_both_paths(
    both_ways: BothWays, queue: QueueDataset, settings: Settings
) -> None:
    answer = await both_ways.compare(
        "{ me { __typename id name email roles agency available skills groups { __typename id code name } } }",
        {},
        token(settings, "manager", named=False),
    )
    assert answer.body["compiled"]
    assert answer.body["data"]["me"]["name"] == "Mo Manager"


@pytest.mark.parametrize(
    "variables",
    [
        {"first": -1},
        {"first": 5, "after": "not-a-cursor"},
        {"first": 5, "filter": {"includeDeleted": True}},
        {"first": 5, "filter": {"text": "x" * 201}},
    ],
)
async def test_refused_page_requests_are_refused_as_the_resolvers_refuse_them(
    both_ways: BothWays, queue: QueueDataset, settings: Settings, variables: dict[str, Any]
) -> None:
    answer = await both_ways.compare(QUEUE_QUERY, variables, token(settings, "agent"))
    assert answer.body["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"


# --- generated selections --------------------------------------------------------------------

CASE_SCALARS: Final = (
    "id",
    "number",
    "title",
    "description",
    "stage",
    "status",
    "workflow",
    "impact",
    "urgency",
    "priority",
    "channel",
    "version",
    "resolutionCode",
    "resolutionNotes",
    "reopenCount",
    "contactEmail",
    "contactPhone",
    "latitude",
    "longitude",
    "cancelReason",
    "submittedAt",
    "firstOpenedAt",
    "resolvedAt",
    "closedAt",
    "deletedAt",
    "createdAt",
    "updatedAt",
    "escalated",
    "autoCloseExcluded",
    "serviceDefinitionCode",
    "inspectionFindings",
    "__typename",
)
RELATIONS: Final = {
    "assignedTo": ("id", "name", "agency", "__typename"),
    "requester": ("id", "name", "agency"),
    "inspector": ("id", "name"),
    "assignmentGroup": ("id", "code", "name", "__typename"),
    "caseType": ("id", "code", "name", "description", "workflow", "autoAssign", "active"),
    "tasks": (
        "id",
        "title",
        "state",
        "dueAt",
        "note",
        "createdAt",
        "finishedAt",
        "__typename",
        "assignee { id name __typename }",
    ),
    "slaTimers": (
        "kind",
        "phase",
        "targetMinutes",
        "elapsedSeconds",
        "remainingSeconds",
        "paused",
        "stopped",
        "breached",
        "dueAt",
        "startedAt",
        "stoppedAt",
        "warnedAt50",
        "warnedAt75",
        "breachedAt",
        "__typename",
    ),
}
ORDER_FIELDS: Final = ("CREATED_AT", "UPDATED_AT", "PRIORITY", "NUMBER")
STATUSES: Final = ("NEW", "OPEN", "AWAITING_INFO", "WORK_IN_PROGRESS", "RESOLVED", "CLOSED", "DRAFT")


@dataclass
class Document:
    """A document being generated: its fragments and the variables its directives read."""

    fragments: list[str]
    variables: dict[str, bool]
    aliases: int = 0

    def alias(self, data: st.DataObject, name: str) -> str:
        if data.draw(st.integers(0, 4)) == 0:
            self.aliases += 1
            return f"a{self.aliases}_{FIELD_NAME.match(name).group()}: {name}"  # type: ignore[union-attr]
        return name

    def condition(self, data: st.DataObject) -> str:
        kind = data.draw(st.integers(0, 9))
        if kind > 2:
            return ""
        directive = data.draw(st.sampled_from(("skip", "include")))
        if kind == 0:
            return f" @{directive}(if: {data.draw(st.sampled_from(('true', 'false')))})"
        name = f"v{len(self.variables)}"
        self.variables[name] = data.draw(st.booleans())
        return f" @{directive}(if: ${name})"

    def selection(self, data: st.DataObject, items: list[str], on: str) -> str:
        """``items`` written directly, in an inline fragment or in a named fragment, with conditions."""
        parts = []
        for chunk in _chunks(data, items):
            how = data.draw(st.integers(0, 3))
            written = " ".join(_directed(self.alias(data, item), self.condition(data)) for item in chunk)
            if how == 1:
                parts.append(f"... on {on}{self.condition(data)} {{ {written} }}")
            elif how == 2:
                name = f"F{len(self.fragments)}"
                self.fragments.append(f"fragment {name} on {on} {{ {written} }}")
                parts.append(f"...{name}{self.condition(data)}")
            else:
                parts.append(written)
        return " ".join(parts)


def _directed(item: str, directive: str) -> str:
    """Directives go after the field's name and arguments, before its selection set."""
    at = item.find(" {")
    return item + directive if at < 0 else item[:at] + directive + item[at:]


def _chunks(data: st.DataObject, items: list[str]) -> Iterator[list[str]]:
    while items:
        size = data.draw(st.integers(1, max(1, len(items))))
        yield items[:size]
        items = items[size:]


def case_selection(data: st.DataObject, document: Document) -> str:
    scalars = data.draw(st.lists(st.sampled_from(CASE_SCALARS), min_size=1, max_size=8))
    items = list(scalars)
    for relation in data.draw(st.lists(st.sampled_from(sorted(RELATIONS)), max_size=4)):
        inner = data.draw(st.lists(st.sampled_from(RELATIONS[relation]), min_size=1, max_size=5))
        items.append(f"{relation} {{ {' '.join(inner)} }}")
    return document.selection(data, items, "Case")


def connection_selection(data: st.DataObject, document: Document) -> str:
    items = []
    if data.draw(st.booleans()):
        items.append("totalCount")
    if data.draw(st.booleans()):
        info = data.draw(
            st.lists(
                st.sampled_from(("hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename")),
                min_size=1,
                max_size=4,
            )
        )
        items.append(f"pageInfo {{ {' '.join(info)} }}")
    for _ in range(data.draw(st.integers(1, 2))):
        edge = ["cursor"] if data.draw(st.booleans()) else []
        edge.append(f"node {{ {case_selection(data, document)} }}")
        if data.draw(st.integers(0, 4)) == 0:
            edge.append("__typename")
        items.append(f"edges {{ {' '.join(edge)} }}")
    if data.draw(st.integers(0, 4)) == 0:
        items.append("__typename")
    return document.selection(data, items, "CaseConnection")


def case_filter(data: st.DataObject) -> dict[str, Any] | None:
    kind = data.draw(st.integers(0, 6))
    if kind == 0:
        return {"status": data.draw(st.lists(st.sampled_from(STATUSES), min_size=1, max_size=3))}
    if kind == 1:
        return {
            "assignmentGroupCode": data.draw(
                st.lists(st.sampled_from(("QA_ROADS", "QA_PARKS", "NOPE")), min_size=1, max_size=2)
            )
        }
    if kind == 2:
        return {"unassigned": data.draw(st.booleans()), "priority": [1, 2, 3]}
    if kind == 3:
        return {"text": data.draw(st.sampled_from(("pothole", "TREE", "case 1", "%", "_")))}
    if kind == 4:
        return {"includeDeleted": True}
    return None


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
async def test_generated_selections_answer_as_the_resolvers_do(
    both_ways: BothWays, queue: QueueDataset, settings: Settings, data: st.DataObject
) -> None:
    # given: a document selecting from `cases` (and maybe `me`), and a role to send it as
    document = Document(fragments=[], variables={})
    who = data.draw(st.sampled_from(sorted(PEOPLE)), label="who")
    order = {
        "field": data.draw(st.sampled_from(ORDER_FIELDS)),
        "direction": data.draw(st.sampled_from(("ASC", "DESC"))),
    }
    variables: dict[str, Any] = {
        "first": data.draw(st.sampled_from((0, 1, 5, 17, 100, 150))),
        "order": order,
        "filter": case_filter(data),
    }
    selection = connection_selection(data, document)
    me = "me { id name roles groups { code name } }" if data.draw(st.booleans()) else ""
    root = document.selection(
        data,
        [
            f"cases(filter: $filter, orderBy: $order, first: $first, after: $after) {{ {selection} }}",
            *([me] if me else []),
        ],
        "Query",
    )
    declared = "".join(f", ${name}: Boolean!" for name in document.variables)
    query = (
        f"query Generated($filter: CaseFilterInput, $order: CaseOrderInput, $first: Int, $after: String{declared}) "
        f"{{ {root} }} {' '.join(document.fragments)}"
    )
    bearer = token(settings, who)
    if data.draw(st.booleans(), label="from a cursor"):
        # A cursor of this ordering, from the first page.
        first_page = await both_ways.send(
            "query C($order: CaseOrderInput) { cases(orderBy: $order, first: 30) { edges { cursor } } }",
            {"order": order},
            bearer,
            planned=True,
        )
        cursors = [edge["cursor"] for edge in first_page.body["data"]["cases"]["edges"]]
        if cursors:
            variables["after"] = data.draw(st.sampled_from(cursors), label="after")
    # when / then: both executions agree, and the compiled path answered unless the page was refused
    answer = await both_ways.compare(query, {**variables, **document.variables}, bearer)
    # (a generated document may also price above the complexity limit: both ways refuse it alike)
    refused = answer.body["errors"][0].get("extensions", {}).get("code") if answer.body.get("errors") else None
    # A text search is read through the search index by the resolvers (issue 19), not compiled.
    searched = bool((variables["filter"] or {}).get("text", "").strip())
    assert answer.body["compiled"] or searched or refused in {"VALIDATION_FAILED", "QUERY_LIMIT_EXCEEDED"}, (
        query,
        answer.body.get("errors"),
    )


async def test_a_repeated_first_page_follows_the_agents_current_groups(
    client: GraphQLClient, queue: QueueDataset, settings: Settings
) -> None:
    # given: an agent of two groups who has asked for the first page (its statement is kept)
    bearer = token(settings, "agent")
    me = PEOPLE["agent"].sub
    query = """query($first: Int!) { cases(first: $first) { totalCount edges { node {
        id assignmentGroup { code } assignedTo { id } requester { id } inspector { id } } } } }"""

    def parks_not_mine(page: dict[str, Any]) -> set[str]:
        """Parks cases the agent sees through the group alone (not assigned, requested or inspected)."""
        return {
            node["id"]
            for node in (edge["node"] for edge in page["cases"]["edges"])
            if (node["assignmentGroup"] or {}).get("code") == "QA_PARKS"
            and me not in {(node[role] or {}).get("id") for role in ("assignedTo", "requester", "inspector")}
        }

    before = await client.data(query, {"first": 100}, token=bearer)
    assert parks_not_mine(before)
    executions = EXECUTIONS["compiled"]
    # when: the agent leaves the Parks group and asks again
    await GroupMembership.filter(user_id=me, group_id=queue.group_ids["QA_PARKS"]).delete()
    after = await client.data(query, {"first": 100}, token=bearer)
    # then: the Parks cases seen through the group are gone from the page and its total
    assert EXECUTIONS["compiled"] == executions + 1
    assert not parks_not_mine(after)
    assert after["cases"]["totalCount"] < before["cases"]["totalCount"]
