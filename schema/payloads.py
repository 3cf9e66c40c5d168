"""Mutation payloads: the changed object, the event recorded, and refusals as data."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import strawberry

from casegraph.domain.errors import DomainError
from casegraph.services.case_changes import ActionResult
from schema.types.attachments import Attachment
from schema.types.case import Article, Case, CaseEvent, CaseTask
from schema.types.case_type import CaseType
from schema.types.common import UserError
from schema.types.intake import CaseTemplate, ServiceDefinition
from schema.types.people import AssignmentGroup, GroupMember, User
from schema.types.playbooks import CaseStep
from schema.types.referrals import PartnerAgency, ReceivedReferral, Referral
from schema.types.sla import SlaPolicy, SlaSettings
from schema.types.webhooks import WebhookDelivery, WebhookEndpoint

P = TypeVar("P")


def user_errors(error: DomainError) -> list[UserError]:
    return [UserError(code=error.code, message=error.message, field=error.field, reason=error.reason)]


def case_payload(result: ActionResult) -> CasePayload:
    """The payload of a mutation that recorded one case event."""
    return CasePayload(case=Case.from_record(result.case), event=CaseEvent.from_record(result.event))


def refused(payload: Callable[..., P]) -> Callable[[DomainError], P]:
    """How a payload type carries a refusal (the mutation runner's ``refused``)."""

    def carry(error: DomainError) -> P:
        return payload(errors=user_errors(error))

    return carry


@strawberry.type(description="The result of a case action.")
class CasePayload:
    case: Case | None = None
    event: CaseEvent | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The result of finishing or cancelling a case task.")
class TaskPayload:
    task: CaseTask | None = None
    case: Case | None = None
    event: CaseEvent | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AssignmentGroupPayload:
    assignment_group: AssignmentGroup | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class GroupMemberPayload:
    assignment_group: AssignmentGroup | None = None
    member: GroupMember | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CaseTypePayload:
    case_type: CaseType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UserPayload:
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The result of splitting a case: the parent, its SPLIT_CASE event, the new children.")
class SplitCasePayload:
    case: Case | None = None
    event: CaseEvent | None = None
    children: list[Case] = strawberry.field(default_factory=list, description="The new children the viewer may see.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The result of completing or reopening a playbook step.")
class CaseStepPayload:
    step: CaseStep | None = None
    case: Case | None = None
    event: CaseEvent | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The result of an article mutation.")
class ArticlePayload:
    article: Article | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SlaPolicyPayload:
    policy: SlaPolicy | None = strawberry.field(default=None, description="Null when the policy was removed.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SlaSettingsPayload:
    settings: SlaSettings | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The result of registering a persisted query.")
class PersistedQueryPayload:
    sha256: str | None = strawberry.field(default=None, description="Hex SHA-256 of the document (APQ's sha256Hash).")
    name: str | None = None
    created: bool = strawberry.field(default=False, description="False when the document was registered already.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = None
    secret: str | None = strawberry.field(
        default=None, description="The signing secret: returned by createWebhookEndpoint only, never again."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteWebhookEndpointPayload:
    deleted_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class WebhookDeliveryPayload:
    delivery: WebhookDelivery | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ServiceDefinitionPayload:
    service_definition: ServiceDefinition | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CaseTemplatePayload:
    template: CaseTemplate | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PartnerAgencyPayload:
    partner: PartnerAgency | None = None
    shared_secret: str | None = strawberry.field(default=None, description="Only when generated: shown once.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ReferralPayload:
    referral: Referral | None = None
    case: Case | None = None
    event: CaseEvent | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ReceiveReferralPayload:
    referral: ReceivedReferral | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ReferralUpdatePayload:
    applied: bool = strawberry.field(default=False, description="False: this update had been applied before.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The result of adding or removing a file.")
class AttachmentPayload:
    attachment: Attachment | None = None
    case: Case | None = None
    event: CaseEvent | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
