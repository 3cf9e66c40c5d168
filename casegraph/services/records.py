"""Plain, immutable snapshots of rows: what GraphQL types are built from and idempotency stores.

Building these from ``.values()`` dicts (not ORM objects) keeps list queries cheap.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any, Final

from casegraph.domain.enums import (
    CaseAction,
    CaseEventType,
    CaseStage,
    CaseStatus,
    Channel,
    ResolutionCode,
    Workflow,
)
from casegraph.domain.lifecycle import Facts, State
from casegraph.domain.relations import CaseParties


@dataclass(frozen=True, slots=True)
class CaseRecord:
    id: str
    number: str
    title: str | None
    description: str | None
    stage: CaseStage
    status: CaseStatus
    remembered_stage: CaseStage | None
    remembered_status: CaseStatus | None
    workflow: Workflow
    case_type_id: int | None
    assignment_group_id: int | None
    impact: int
    urgency: int
    priority: int
    channel: Channel
    requester_id: str
    author_id: str
    assigned_to_id: str | None
    inspector_id: str | None
    contact_email: str | None
    contact_phone: str | None
    version: int
    resolution_code: ResolutionCode | None
    resolution_notes: str | None
    inspection_findings: str | None
    cancel_reason: str | None
    reopen_count: int
    solution_accepted: bool
    escalated: bool
    auto_close_excluded: bool
    parent_id: str | None
    duplicate_of_id: str | None
    service_definition_code: str | None
    latitude: float | None
    longitude: float | None
    referred_agency: str | None
    submitted_at: datetime | None
    first_opened_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    deleted_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def state(self) -> State:
        return (self.stage, self.status)

    @property
    def remembered(self) -> State | None:
        if self.remembered_stage is None or self.remembered_status is None:
            return None
        return (self.remembered_stage, self.remembered_status)

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    def parties(self, task_assignee_ids: frozenset[str] = frozenset()) -> CaseParties:
        return CaseParties(
            requester_id=self.requester_id,
            author_id=self.author_id,
            assigned_to_id=self.assigned_to_id,
            group_id=self.assignment_group_id,
            inspector_id=self.inspector_id,
            referred_agency=self.referred_agency,
            status=self.status,
            deleted=self.deleted,
            task_assignee_ids=task_assignee_ids,
        )

    def facts(
        self,
        *,
        open_tasks: int = 0,
        survey_submitted: bool = False,
        open_steps: int = 0,
        referral_undecided: bool = False,
        referral_open: bool = False,
    ) -> Facts:
        return Facts(
            has_title=bool(self.title),
            has_case_type=self.case_type_id is not None,
            open_tasks=open_tasks,
            solution_accepted=self.solution_accepted,
            survey_submitted=survey_submitted,
            deleted=self.deleted,
            remembered=self.remembered,
            open_steps=open_steps,
            referral_undecided=referral_undecided,
            referral_open=referral_open,
        )

    def to_json(self) -> dict[str, Any]:
        return {k: _jsonable(v) for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CaseRecord:
        return cls.from_row({k: _CASE_DECODERS.get(k, _same)(v) for k, v in data.items()})

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CaseRecord:
        values = {name: row[name] for name in CASE_COLUMNS}
        for key in ("id", "parent_id", "duplicate_of_id"):
            if values[key] is not None:
                values[key] = str(values[key])
        return cls(**values)


CASE_COLUMNS: Final = tuple(f.name for f in fields(CaseRecord))


@dataclass(frozen=True, slots=True)
class EventDraft:
    """An event about to be appended: everything but its sequence.

    A case change takes the sequence as its last write (``case_changes.commit_change``), so
    what runs before that — the first phase of each change hook — sees the event as this.
    """

    case_id: str
    actor_id: str | None
    type: CaseEventType
    action: CaseAction
    from_stage: CaseStage | None
    from_status: CaseStatus | None
    to_stage: CaseStage
    to_status: CaseStatus
    version: int
    summary: dict[str, Any]
    occurred_at: datetime
    # The X-Request-ID of the request that recorded it; shown to staff only.
    request_id: str | None = None

    def columns(self) -> dict[str, Any]:
        """The draft's columns, field by field, not through asdict: that deep-copies the
        summary for nothing."""
        return {name: getattr(self, name) for name in _DRAFT_FIELDS}

    def recorded(self, sequence: int) -> EventRecord:
        return EventRecord(sequence=sequence, **self.columns())


_DRAFT_FIELDS: Final = tuple(f.name for f in fields(EventDraft))


@dataclass(frozen=True, slots=True)
class EventRecord(EventDraft):
    """An event of the log: a draft with its sequence."""

    sequence: int = field(kw_only=True)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> EventRecord:
        values = {name: row[name] for name in EVENT_COLUMNS}
        values["case_id"] = str(values["case_id"])
        return cls(**values)


EVENT_COLUMNS: Final = tuple(f.name for f in fields(EventRecord))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "value") and not isinstance(value, (int, str)):
        return value.value
    if isinstance(value, str) and hasattr(value, "value"):
        return value.value
    return value


def _same(value: Any) -> Any:
    return value


def _opt(decode: Any) -> Any:
    return lambda v: None if v is None else decode(v)


_CASE_DECODERS: Final[dict[str, Any]] = {
    "stage": CaseStage,
    "status": CaseStatus,
    "remembered_stage": _opt(CaseStage),
    "remembered_status": _opt(CaseStatus),
    "workflow": Workflow,
    "channel": Channel,
    "resolution_code": _opt(ResolutionCode),
    **{
        name: _opt(datetime.fromisoformat)
        for name in (
            "submitted_at",
            "first_opened_at",
            "resolved_at",
            "closed_at",
            "deleted_at",
            "created_at",
            "updated_at",
        )
    },
}
