"""The fields the compiled path knows, per GraphQL type, and where each one's value comes from.

Only fields whose value is a stored column (or a relation's column) are here, plus the SLA
timers (computed by the same functions as ``Case.slaTimers``) and the viewer-dependent
``inspectionFindings`` (the same staff rule). Anything else — ``availableActions``, history,
comments, a user's e-mail… — is not, so an operation selecting it executes normally.
"""

from __future__ import annotations

from typing import Final

from casegraph.domain.enums import CaseStage, CaseStatus, Channel, ResolutionCode, Role, TaskState, Workflow
from casegraph.domain.sla import Phase, TimerKind
from casegraph.fastpath.values import Decoder, boolean, enum_names, iso, real, same, text_id

# Case fields read straight from a column of ``cases``: GraphQL name → (column, decoder).
CASE_COLUMNS: Final[dict[str, tuple[str, Decoder]]] = {
    "id": ("id", text_id),
    "number": ("number", same),
    "title": ("title", same),
    "description": ("description", same),
    "stage": ("stage", enum_names(CaseStage)),
    "status": ("status", enum_names(CaseStatus)),
    "workflow": ("workflow", enum_names(Workflow)),
    "impact": ("impact", same),
    "urgency": ("urgency", same),
    "priority": ("priority", same),
    "channel": ("channel", enum_names(Channel)),
    "version": ("version", same),
    "resolutionCode": ("resolution_code", enum_names(ResolutionCode)),
    "resolutionNotes": ("resolution_notes", same),
    "reopenCount": ("reopen_count", same),
    "contactEmail": ("contact_email", same),
    "contactPhone": ("contact_phone", same),
    "latitude": ("latitude", real),
    "longitude": ("longitude", real),
    "cancelReason": ("cancel_reason", same),
    "submittedAt": ("submitted_at", iso),
    "firstOpenedAt": ("first_opened_at", iso),
    "resolvedAt": ("resolved_at", iso),
    "closedAt": ("closed_at", iso),
    "deletedAt": ("deleted_at", iso),
    "createdAt": ("created_at", iso),
    "updatedAt": ("updated_at", iso),
    "escalated": ("escalated", boolean),
    "autoCloseExcluded": ("auto_close_excluded", boolean),
    "serviceDefinitionCode": ("service_definition_code", same),
    # Staff only (Case.inspection_findings): null for the others.
    "inspectionFindings": ("inspection_findings", same),
}
STAFF_ONLY_CASE_FIELDS: Final = frozenset({"inspectionFindings"})

# Case fields that are a user, by the column naming them.
CASE_USERS: Final = {"assignedTo": "assigned_to_id", "requester": "requester_id", "inspector": "inspector_id"}

# A related user, group or case type: GraphQL name → (column of its table, decoder).
USER_COLUMNS: Final[dict[str, tuple[str, Decoder]]] = {
    "id": ("id", same),
    "name": ("name", same),
    "agency": ("agency", same),
}
GROUP_COLUMNS: Final[dict[str, tuple[str, Decoder]]] = {
    "id": ("id", text_id),
    "code": ("code", same),
    "name": ("name", same),
}
CASE_TYPE_COLUMNS: Final[dict[str, tuple[str, Decoder]]] = {
    "id": ("id", text_id),
    "code": ("code", same),
    "name": ("name", same),
    "description": ("description", same),
    "workflow": ("workflow", enum_names(Workflow)),
    "autoAssign": ("auto_assign", boolean),
    "active": ("active", boolean),
}
TASK_COLUMNS: Final[dict[str, tuple[str, Decoder]]] = {
    "id": ("id", text_id),
    "title": ("title", same),
    "state": ("state", enum_names(TaskState)),
    "dueAt": ("due_at", iso),
    "note": ("note", same),
    "createdAt": ("created_at", iso),
    "finishedAt": ("finished_at", iso),
}
# Columns of case_timers the SLA view is computed from (services.timer_rows.timer_of) and shows.
TIMER_COLUMNS: Final = (
    "kind",
    "target_minutes",
    "elapsed_us",
    "running_since",
    "phase",
    "started_at",
    "stopped_at",
    "warned_50_at",
    "warned_75_at",
    "breached_at",
)
SLA_TIMER_FIELDS: Final = frozenset(
    {
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
    }
)
TIMER_KIND_NAMES: Final = enum_names(TimerKind)
PHASE_NAMES: Final = enum_names(Phase)
ROLE_NAMES: Final = enum_names(Role)

# SUPPORTED's key for the fields selected on `Query.me`, which are planned apart from other Users'.
VIEWER: Final = "Query.me"
SUPPORTED: Final[dict[str, frozenset[str]]] = {
    "Query": frozenset({"cases", "me"}),
    "CaseConnection": frozenset({"totalCount", "pageInfo", "edges"}),
    "PageInfo": frozenset({"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"}),
    "CaseEdge": frozenset({"cursor", "node"}),
    "Case": frozenset({*CASE_COLUMNS, *CASE_USERS, "assignmentGroup", "caseType", "tasks", "slaTimers"}),
    "User": frozenset(USER_COLUMNS),
    "AssignmentGroup": frozenset(GROUP_COLUMNS),
    "CaseType": frozenset(CASE_TYPE_COLUMNS),
    "CaseTask": frozenset({*TASK_COLUMNS, "assignee"}),
    "SlaTimer": SLA_TIMER_FIELDS,
    # The fields of `me` (a User): the viewer's own, all of them shown (casegraph/fastpath/viewer.py).
    VIEWER: frozenset({"id", "name", "roles", "agency", "email", "available", "skills", "groups"}),
}
