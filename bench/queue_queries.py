"""The agents' queue query as each server is asked it, and proof both answer the same.

casegraph's document is the dashboard's (``casegraph/web/static/agent/queries.js`` QUEUE_QUERY
with its default filter: the open statuses, 50 by update time) extended with the tasks and SLA
timers the issue names; the agent's token decides what they may see. PostGraphile's is the
equivalent over the same tables: the same 50 rows in the same order, the same columns and joins,
with a filter that states what casegraph's authorization allows this agent (their groups' cases,
or assigned to or requested by them, not deleted). casegraph's SLA timers show derived values
(remaining seconds, due time); PostGraphile shows the stored columns they derive from.

Two shapes are asked: the dashboard's (``DASHBOARD``) and a plain page of 50 cases by update
time with no filter, joins, tasks, timers or count (``PLAIN``). PostGraphile is asked each with the
viewer's visibility stated, and, for a viewer who may see every group, also with none: then only
what the page itself excludes remains (deleted cases and drafts, which no agent's queue lists, and
the dashboard's statuses), so both servers still owe the same answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

OPEN_STATUSES: Final = (
    "NEW",
    "OPEN",
    "AWAITING_INFO",
    "INSPECTION_IN_PROGRESS",
    "WORK_IN_PROGRESS",
    "WORK_ASSIGNMENT_IN_PROGRESS",
    "READY_FOR_DECISION",
    "RESOLVED",
)
PAGE: Final = 50

CASEGRAPH_QUEUE: Final = """
query AgentQueue($filter: CaseFilterInput, $first: Int!, $after: String) {
  cases(filter: $filter, orderBy: {field: UPDATED_AT, direction: DESC}, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        id number title status stage priority version updatedAt escalated
        assignedTo { id name }
        assignmentGroup { code name }
        caseType { code name }
        tasks { id title state dueAt assignee { id name } }
        slaTimers { kind phase breached dueAt remainingSeconds paused }
      }
    }
  }
}
"""

POSTGRAPHILE_QUEUE: Final = """
query AgentQueue($first: Int!, $after: Cursor, $filter: CaseFilter!) {
  allCases(first: $first, after: $after, orderBy: [UPDATED_AT_DESC, ROW_ID_DESC], filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        rowId number title status stage priority version updatedAt escalated
        userByAssignedToId { rowId name }
        assignmentGroupByAssignmentGroupId { code name }
        caseTypeByCaseTypeId { code name }
        caseTasksByCaseId(orderBy: ROW_ID_ASC) {
          nodes { rowId title state dueAt userByAssigneeId { rowId name } }
        }
        caseTimersByCaseId(orderBy: KIND_DESC) {
          nodes { kind phase targetMinutes elapsedUs runningSince breachedAt }
        }
      }
    }
  }
}
"""


CASEGRAPH_PLAIN: Final = """
query PlainPage($first: Int!, $after: String) {
  cases(orderBy: {field: UPDATED_AT, direction: DESC}, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id number title status stage priority version updatedAt escalated } }
  }
}
"""

POSTGRAPHILE_PLAIN: Final = """
query PlainPage($first: Int!, $after: Cursor, $filter: CaseFilter!) {
  allCases(first: $first, after: $after, orderBy: [UPDATED_AT_DESC, ROW_ID_DESC], filter: $filter) {
    pageInfo { hasNextPage endCursor }
    edges { node { rowId number title status stage priority version updatedAt escalated } }
  }
}
"""


@dataclass(frozen=True)
class Shape:
    """One queue question as each server is asked it; ``statuses`` None: no status filter."""

    name: str
    operation: str
    casegraph_query: str
    postgraphile_query: str
    statuses: tuple[str, ...] | None


DASHBOARD: Final = Shape("dashboard", "AgentQueue", CASEGRAPH_QUEUE, POSTGRAPHILE_QUEUE, OPEN_STATUSES)
PLAIN: Final = Shape("plain page", "PlainPage", CASEGRAPH_PLAIN, POSTGRAPHILE_PLAIN, None)
SHAPES: Final = (DASHBOARD, PLAIN)


def casegraph_body(first: int = PAGE, shape: Shape = DASHBOARD) -> dict[str, Any]:
    variables: dict[str, Any] = {"first": first}
    if shape.statuses is not None:
        variables["filter"] = {"status": list(shape.statuses)}
    return {"operationName": shape.operation, "query": shape.casegraph_query, "variables": variables}


def postgraphile_filter(
    shape: Shape, *, agent_id: str | None = None, group_ids: Sequence[int] | None = None
) -> dict[str, Any]:
    """What casegraph lets the agent see (their groups' cases, or assigned to or requested by
    them; never a deleted case or another's draft), or with ``agent_id`` None no visibility at all."""
    condition: dict[str, Any] = {"deletedAt": {"isNull": True}}
    if shape.statuses is not None:
        condition["status"] = {"in": list(shape.statuses)}
    else:
        condition["status"] = {"notEqualTo": "DRAFT"}
    if agent_id is not None:
        condition["or"] = [
            {"assignmentGroupId": {"in": list(group_ids or [])}},
            {"assignedToId": {"equalTo": agent_id}},
            {"requesterId": {"equalTo": agent_id}},
        ]
    return condition


def postgraphile_body(
    first: int = PAGE,
    *,
    agent_id: str | None,
    group_ids: Sequence[int] | None = None,
    shape: Shape = DASHBOARD,
) -> dict[str, Any]:
    """The shape's PostGraphile request; ``agent_id`` None asks without any visibility filter."""
    return {
        "operationName": shape.operation,
        "query": shape.postgraphile_query,
        "variables": {"first": first, "filter": postgraphile_filter(shape, agent_id=agent_id, group_ids=group_ids)},
    }


class Mismatch(AssertionError):
    """The two servers did not answer the queue query with the same cases."""


def _instant(value: str | None) -> datetime | None:
    # casegraph writes +00:00, PostgreSQL/PostGraphile may too, or another offset: compare instants.
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _person(value: Mapping[str, Any] | None, key: str) -> tuple[str, str | None] | None:
    return None if value is None else (str(value[key]), value["name"])


def _common(node: Mapping[str, Any], id_key: str) -> dict[str, Any]:
    return {
        "id": str(node[id_key]),
        "number": node["number"],
        "title": node["title"],
        "status": node["status"],
        "stage": node["stage"],
        "priority": node["priority"],
        "version": node["version"],
        "updatedAt": _instant(node["updatedAt"]),
        "escalated": node["escalated"],
    }


def casegraph_rows(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The answer reduced to what both servers show, in one shape (joined values only when asked)."""
    if body.get("errors"):
        raise Mismatch(f"casegraph answered with errors: {body['errors']}")
    rows = []
    for edge in body["data"]["cases"]["edges"]:
        node = edge["node"]
        row = _common(node, "id")
        if "assignedTo" in node:
            row["assignedTo"] = _person(node["assignedTo"], "id")
        if "assignmentGroup" in node:
            row["group"] = node["assignmentGroup"] and (
                node["assignmentGroup"]["code"],
                node["assignmentGroup"]["name"],
            )
        if "caseType" in node:
            row["caseType"] = node["caseType"] and (node["caseType"]["code"], node["caseType"]["name"])
        if "tasks" in node:
            row["tasks"] = [
                (str(t["id"]), t["title"], t["state"], _instant(t["dueAt"]), _person(t["assignee"], "id"))
                for t in node["tasks"]
            ]
        if "slaTimers" in node:
            row["timers"] = [(t["kind"], t["phase"]) for t in node["slaTimers"]]
        rows.append(row)
    return rows


def postgraphile_rows(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    if body.get("errors"):
        raise Mismatch(f"PostGraphile answered with errors: {body['errors']}")
    rows = []
    for edge in body["data"]["allCases"]["edges"]:
        node = edge["node"]
        row = _common(node, "rowId")
        if "userByAssignedToId" in node:
            row["assignedTo"] = _person(node["userByAssignedToId"], "rowId")
        if "assignmentGroupByAssignmentGroupId" in node:
            group = node["assignmentGroupByAssignmentGroupId"]
            row["group"] = group and (group["code"], group["name"])
        if "caseTypeByCaseTypeId" in node:
            case_type = node["caseTypeByCaseTypeId"]
            row["caseType"] = case_type and (case_type["code"], case_type["name"])
        if "caseTasksByCaseId" in node:
            row["tasks"] = [
                (
                    str(t["rowId"]),
                    t["title"],
                    t["state"],
                    _instant(t["dueAt"]),
                    _person(t["userByAssigneeId"], "rowId"),
                )
                for t in node["caseTasksByCaseId"]["nodes"]
            ]
        if "caseTimersByCaseId" in node:
            row["timers"] = [(t["kind"], t["phase"]) for t in node["caseTimersByCaseId"]["nodes"]]
        rows.append(row)
    return rows


def _connection(body: Mapping[str, Any]) -> Mapping[str, Any]:
    data = body["data"]
    connection: Mapping[str, Any] = data.get("cases") or data.get("allCases")
    return connection


def total_count(body: Mapping[str, Any]) -> int:
    return int(_connection(body)["totalCount"])


def page_numbers(body: Mapping[str, Any]) -> list[str]:
    """The case numbers on the page, in order: the same page at every size is the same list."""
    return [str(edge["node"]["number"]) for edge in _connection(body)["edges"]]


def assert_same_queue(casegraph: Mapping[str, Any], postgraphile: Mapping[str, Any]) -> None:
    """Same cases, same order, same columns and joined rows; raises Mismatch naming the first difference."""
    ours, theirs = casegraph_rows(casegraph), postgraphile_rows(postgraphile)
    if [r["number"] for r in ours] != [r["number"] for r in theirs]:
        raise Mismatch(
            "the servers list different cases: casegraph "
            f"{[r['number'] for r in ours][:5]}…, PostGraphile {[r['number'] for r in theirs][:5]}…"
        )
    for mine, other in zip(ours, theirs, strict=True):
        if mine.keys() != other.keys():
            raise Mismatch(f"the servers were asked different fields: {sorted(mine)} against {sorted(other)}")
        for key in mine:
            if mine[key] != other[key]:
                raise Mismatch(
                    f"case {mine['number']}: {key} differs: casegraph {mine[key]!r}, PostGraphile {other[key]!r}"
                )
    counted = ["totalCount" in _connection(body) for body in (casegraph, postgraphile)]
    if counted[0] != counted[1]:
        raise Mismatch("only one of the servers was asked for totalCount")
    if counted[0] and total_count(casegraph) != total_count(postgraphile):
        raise Mismatch(
            f"totalCount differs: casegraph {total_count(casegraph)}, PostGraphile {total_count(postgraphile)}"
        )


def field_count(value: Any) -> int:
    """Fields in a response's ``data``: every key of every object, nested objects and lists included."""
    return sum(1 for _ in _fields(value))


def _fields(value: Any) -> Iterator[None]:
    if isinstance(value, dict):
        for child in value.values():
            yield None
            yield from _fields(child)
    elif isinstance(value, list):
        for item in value:
            yield from _fields(item)
