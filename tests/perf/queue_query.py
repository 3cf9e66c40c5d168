"""The agents' queue query as the benchmark sends it: the dashboard's QUEUE_QUERY
(casegraph/web/static/agent/queries.js) with each row's tasks and SLA timers."""

from __future__ import annotations

from typing import Final

QUEUE_QUERY: Final = """
query AgentQueue($filter: CaseFilterInput, $first: Int!, $after: String) {
  me { id name roles groups { code name } }
  cases(filter: $filter, orderBy: { field: UPDATED_AT, direction: DESC }, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { ...QueueRow } }
  }
}
fragment QueueRow on Case {
  id number title status stage priority version updatedAt escalated deletedAt
  assignedTo { id name }
  assignmentGroup { code name }
  caseType { code name }
  tasks { id title state dueAt assignee { id name } }
  slaTimers { kind phase breached dueAt remainingSeconds paused }
}"""
