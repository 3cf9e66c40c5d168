"""The agents' queue query as each server is asked it, and proof both answer the same.

casegraph's document is the dashboard's (``casegraph/web/static/agent/queries.js`` QUEUE_QUERY
with its default filter: the open statuses, 50 by update time) extended with the tasks and SLA
timers the issue names; the agent's token decides what they may see. PostGraphile's is the
equivalent over the same tables: the same 50 rows in the same order, the same columns and joins,
with a filter that states what casegraph's authorization allows this agent (their groups' cases,
or assigned to or requested by them, not deleted). casegraph's SLA timers show derived values
(remaining seconds, due time); PostGraphile shows the stored columns they derive from.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
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
query AgentQueue($first: Int!, $after: Cursor, $statuses: [String!]!, $groupIds: [Int!]!, $me: String!) {
  allCases(
    first: $first
    after: $after
    orderBy: [UPDATED_AT_DESC, ROW_ID_DESC]
    filter: {
      status: {in: $statuses}
      deletedAt: {isNull: true}
      or: [{assignmentGroupId: {in: $groupIds}}, {assignedToId: {equalTo: $me}}, {requesterId: {equalTo: $me}}]
    }
  ) {
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


def casegraph_body(first: int = PAGE) -> dict[str, Any]:
    return {
        "operationName": "AgentQueue",
        "query": CASEGRAPH_QUEUE,
        "variables": {"filter": {"status": list(OPEN_STATUSES)}, "first": first},
    }


def postgraphile_body(*, agent_id: str, group_ids: Sequence[int], first: int = PAGE) -> dict[str, Any]:
    return {
        "operationName": "AgentQueue",
        "query": POSTGRAPHILE_QUEUE,
        "variables": {"first": first, "statuses": list(OPEN_STATUSES), "groupIds": list(group_ids), "me": agent_id},
    }


class Mismatch(AssertionError):
    """The two servers did not answer the queue query with the same cases."""


def _instant(value: str | None) -> datetime | None:
    # casegraph writes +00:00, PostgreSQL/PostGraphile may too, or another offset: compare instants.
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _person(value: Mapping[str, Any] | None, key: str) -> tuple[str, str | None] | None:
    return None if value is None else (str(value[key]), value["name"])


def casegraph_rows(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The answer reduced to what both servers show, in one shape."""
    if body.get("errors"):
        raise Mismatch(f"casegraph answered with errors: {body['errors']}")
    rows = []
    for edge in body["data"]["cases"]["edges"]:
        node = edge["node"]
        rows.append(
            {
                "id": node["id"],
                "number": node["number"],
                "title": node["title"],
                "status": node["status"],
                "stage": node["stage"],
                "priority": node["priority"],
                "version": node["version"],
                "updatedAt": _instant(node["updatedAt"]),
                "escalated": node["escalated"],
                "assignedTo": _person(node["assignedTo"], "id"),
                "group": node["assignmentGroup"] and (node["assignmentGroup"]["code"], node["assignmentGroup"]["name"]),
                "caseType": node["caseType"] and (node["caseType"]["code"], node["caseType"]["name"]),
                "tasks": [
                    (str(t["id"]), t["title"], t["state"], _instant(t["dueAt"]), _person(t["assignee"], "id"))
                    for t in node["tasks"]
                ],
                "timers": [(t["kind"], t["phase"]) for t in node["slaTimers"]],
            }
        )
    return rows


def postgraphile_rows(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    if body.get("errors"):
        raise Mismatch(f"PostGraphile answered with errors: {body['errors']}")
    rows = []
    for edge in body["data"]["allCases"]["edges"]:
        node = edge["node"]
        group = node["assignmentGroupByAssignmentGroupId"]
        case_type = node["caseTypeByCaseTypeId"]
        rows.append(
            {
                "id": str(node["rowId"]),
                "number": node["number"],
                "title": node["title"],
                "status": node["status"],
                "stage": node["stage"],
                "priority": node["priority"],
                "version": node["version"],
                "updatedAt": _instant(node["updatedAt"]),
                "escalated": node["escalated"],
                "assignedTo": _person(node["userByAssignedToId"], "rowId"),
                "group": group and (group["code"], group["name"]),
                "caseType": case_type and (case_type["code"], case_type["name"]),
                "tasks": [
                    (
                        str(t["rowId"]),
                        t["title"],
                        t["state"],
                        _instant(t["dueAt"]),
                        _person(t["userByAssigneeId"], "rowId"),
                    )
                    for t in node["caseTasksByCaseId"]["nodes"]
                ],
                "timers": [(t["kind"], t["phase"]) for t in node["caseTimersByCaseId"]["nodes"]],
            }
        )
    return rows


def total_count(body: Mapping[str, Any]) -> int:
    data = body["data"]
    connection = data.get("cases") or data.get("allCases")
    return int(connection["totalCount"])


def assert_same_queue(casegraph: Mapping[str, Any], postgraphile: Mapping[str, Any]) -> None:
    """Same cases, same order, same columns and joined rows; raises Mismatch naming the first difference."""
    ours, theirs = casegraph_rows(casegraph), postgraphile_rows(postgraphile)
    if [r["number"] for r in ours] != [r["number"] for r in theirs]:
        raise Mismatch(
            "the servers list different cases: casegraph "
            f"{[r['number'] for r in ours][:5]}…, PostGraphile {[r['number'] for r in theirs][:5]}…"
        )
    for mine, other in zip(ours, theirs, strict=True):
        for key in mine:
            if mine[key] != other[key]:
                raise Mismatch(
                    f"case {mine['number']}: {key} differs: casegraph {mine[key]!r}, PostGraphile {other[key]!r}"
                )
    if total_count(casegraph) != total_count(postgraphile):
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
