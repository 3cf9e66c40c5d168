"""The domain's enums exposed to GraphQL unchanged (names and values fixed by the spec)."""

from __future__ import annotations

from enum import Enum

import strawberry

from casegraph.domain import enums as domain
from casegraph.services.case_queries import OrderField

CaseStage = strawberry.enum(domain.CaseStage, description="The stage of a case's life cycle.")
CaseStatus = strawberry.enum(domain.CaseStatus, description="The status of a case within its stage.")
CaseAction = strawberry.enum(domain.CaseAction, description="An action on a case; events name the action that caused them.")
Role = strawberry.enum(domain.Role, description="A role carried in the bearer token's `roles` claim.")
Workflow = strawberry.enum(domain.Workflow, description="The life cycle a case type follows.")
Channel = strawberry.enum(domain.Channel, description="How a case reached the agency.")
ResolutionCode = strawberry.enum(domain.ResolutionCode, description="Why a case was resolved.")
CaseEventType = strawberry.enum(domain.CaseEventType, description="What kind of change an event records.")
ErrorCode = strawberry.enum(domain.ErrorCode, description="Why a mutation was refused.")
TaskState = strawberry.enum(domain.TaskState, description="Where a case task (work-order line) stands.")


@strawberry.enum(description="What a case list is sorted by.")
class CaseOrderField(Enum):
    CREATED_AT = OrderField.CREATED_AT.value
    UPDATED_AT = OrderField.UPDATED_AT.value
    PRIORITY = OrderField.PRIORITY.value
    NUMBER = OrderField.NUMBER.value


@strawberry.enum(description="Sort direction.")
class OrderDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"
