"""The domain's enums exposed to GraphQL unchanged (names and values fixed by the spec).

``strawberry.enum`` registers each domain class in place, so the domain never imports strawberry
and annotations here use the very same classes.
"""

from __future__ import annotations

from enum import Enum

import strawberry

from casegraph.domain.attachments import ScanStatus
from casegraph.domain.business_hours import Weekday
from casegraph.domain.enums import (
    CaseAction,
    CaseEventType,
    CaseStage,
    CaseStatus,
    Channel,
    ErrorCode,
    ResolutionCode,
    Role,
    TaskState,
    Workflow,
)
from casegraph.domain.intake import CaseField
from casegraph.domain.knowledge import ArticleStatus
from casegraph.domain.sla import Phase, TimerKind
from casegraph.events.feed import QueueScope
from casegraph.services.analytics import BacklogInterval, OpenCaseDimension
from casegraph.services.case_queries import OrderField

strawberry.enum(CaseStage, description="The stage of a case's life cycle.")
strawberry.enum(CaseStatus, description="The status of a case within its stage.")
strawberry.enum(CaseAction, description="An action on a case; events name the action that caused them.")
strawberry.enum(Role, description="A role carried in the bearer token's `roles` claim.")
strawberry.enum(Workflow, description="The life cycle a case type follows.")
strawberry.enum(Channel, description="How a case reached the agency.")
strawberry.enum(ResolutionCode, description="Why a case was resolved.")
strawberry.enum(CaseEventType, description="What kind of change an event records.")
strawberry.enum(ErrorCode, description="Why a mutation was refused.")
strawberry.enum(TaskState, description="Where a case task (work-order line) stands.")
strawberry.enum(QueueScope, description="Which cases a queue feed follows: my groups' or those assigned to me.")
strawberry.enum(CaseField, description="A case field a case type or template can require at submission.")
strawberry.enum(
    ScanStatus,
    description="Where a file stands with the malware scanner; NOT_SCANNED when no scanner is configured.",
)
strawberry.enum(ArticleStatus, description="Whether an article is a draft (staff only) or published (everyone).")
strawberry.enum(
    TimerKind, name="SlaTimerKind", description="RESPONSE: submitted → first OPEN; RESOLUTION: submitted → RESOLVED."
)
strawberry.enum(Phase, name="SlaTimerPhase", description="Whether an SLA timer is counting.")
strawberry.enum(Weekday, description="A day of the week.")
strawberry.enum(OpenCaseDimension, description="What open cases are counted per.")
strawberry.enum(BacklogInterval, description="The width of one backlog bucket.")


@strawberry.enum(description="What a case list is sorted by.")
class CaseOrderField(Enum):
    CREATED_AT = OrderField.CREATED_AT.value
    UPDATED_AT = OrderField.UPDATED_AT.value
    PRIORITY = OrderField.PRIORITY.value
    NUMBER = OrderField.NUMBER.value


# The contract gives SLA compliance its own enum, TimerKind, without a description, apart from the
# timers' SlaTimerKind above. It used to follow from the order of imports (the domain class was
# registered only after the compliance type was declared); declared here, no order decides it.
@strawberry.enum(name="TimerKind")
class ComplianceTimerKind(str, Enum):
    RESPONSE = TimerKind.RESPONSE.value
    RESOLUTION = TimerKind.RESOLUTION.value


@strawberry.enum(description="Sort direction.")
class OrderDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


__all__ = [
    "ArticleStatus",
    "ScanStatus",
    "BacklogInterval",
    "CaseAction",
    "CaseEventType",
    "CaseField",
    "CaseOrderField",
    "CaseStage",
    "CaseStatus",
    "Channel",
    "ComplianceTimerKind",
    "ErrorCode",
    "OpenCaseDimension",
    "OrderDirection",
    "Phase",
    "QueueScope",
    "ResolutionCode",
    "Role",
    "TaskState",
    "TimerKind",
    "Weekday",
    "Workflow",
]
