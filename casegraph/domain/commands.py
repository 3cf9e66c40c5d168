"""What a case action is asked to do, beyond naming the case: the typed input of ``perform``.

Resolvers decode GraphQL inputs into these; ``casegraph/services/action_inputs.py`` validates
them. Values are kept as given (text not yet trimmed, ids not yet checked) so that validation
stays in one place and refuses bad input with the field named as the contract names it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Final

from casegraph.domain.enums import ResolutionCode


@dataclass(frozen=True)
class NoInput:
    """The actions that take nothing but the case (submit, accept, resume, delete, …)."""


@dataclass(frozen=True)
class Assign:
    assignee_id: str | None = None


@dataclass(frozen=True)
class UpdateCase:
    """Only the fields given (not None) change; which ones a caller may give is the table's grant."""

    title: str | None = None
    description: str | None = None
    impact: int | None = None
    urgency: int | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    comment: str | None = None
    work_note: str | None = None
    case_type_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    def given_fields(self) -> frozenset[str]:
        """The contract's names of the fields given: what the life-cycle table's grants list."""
        return frozenset(UPDATE_FIELD_NAMES[f.name] for f in fields(self) if getattr(self, f.name) is not None)


# The contract's (api.md) names of UpdateCaseInput's fields, as the table and refusals name them.
UPDATE_FIELD_NAMES: Final = {
    "title": "title",
    "description": "description",
    "impact": "impact",
    "urgency": "urgency",
    "contact_email": "contactEmail",
    "contact_phone": "contactPhone",
    "comment": "comment",
    "work_note": "workNote",
    "case_type_code": "caseTypeCode",
    "latitude": "latitude",
    "longitude": "longitude",
}


@dataclass(frozen=True)
class RequestInfo:
    question: str | None = None


@dataclass(frozen=True)
class RequestInspection:
    inspector_id: str | None = None


@dataclass(frozen=True)
class CompleteInspection:
    findings: str | None = None


@dataclass(frozen=True)
class TaskSpec:
    title: str | None = None
    assignee_id: str | None = None
    due_at: datetime | None = None


@dataclass(frozen=True)
class AssignWork:
    tasks: tuple[TaskSpec, ...] = ()


@dataclass(frozen=True)
class ProposeSolution:
    resolution_code: ResolutionCode | None = None
    resolution_notes: str | None = None


@dataclass(frozen=True)
class RejectSolution:
    reason: str | None = None


@dataclass(frozen=True)
class Close:
    resolution_notes: str | None = None


@dataclass(frozen=True)
class Cancel:
    reason: str | None = None


@dataclass(frozen=True)
class SubmitSurvey:
    rating: int | None = None
    comment: str | None = None


Command = (
    NoInput
    | Assign
    | UpdateCase
    | RequestInfo
    | RequestInspection
    | CompleteInspection
    | AssignWork
    | ProposeSolution
    | RejectSolution
    | Close
    | Cancel
    | SubmitSurvey
)
