"""Mutation and filter inputs. Every case action takes `caseId`, `expectedVersion`, `idempotencyKey`."""

from __future__ import annotations

from datetime import date, datetime

import strawberry
from strawberry.file_uploads import Upload

from schema.enums import (
    ArticleStatus,
    CaseEventType,
    CaseField,
    CaseOrderField,
    CaseStage,
    CaseStatus,
    Channel,
    OrderDirection,
    ResolutionCode,
    Weekday,
    Workflow,
)
from schema.types.referrals import ReferralOutcome, ReferralStatus

CASE_ID = "The case to act on."
EXPECTED_VERSION = "Refuse with VERSION_CONFLICT unless the case is at this version."
IDEMPOTENCY_KEY = "Repeat-safe key, scoped to the user, kept 24 hours."


@strawberry.input
class CaseActionInput:
    case_id: strawberry.ID = strawberry.field(description=CASE_ID)
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="File a case (or save a draft with `submit: false`).")
class CreateCaseInput:
    case_type_code: str | None = None
    title: str | None = None
    description: str | None = None
    impact: int | None = strawberry.field(default=None, description="1 high, 2 medium, 3 low (default 3).")
    urgency: int | None = strawberry.field(default=None, description="1 high, 2 medium, 3 low (default 3).")
    channel: Channel | None = None
    requester_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required when staff file on a constituent's behalf."
    )
    contact_email: str | None = None
    contact_phone: str | None = None
    submit: bool = True
    service_definition_code: str | None = strawberry.field(
        default=None, description="File under this service: its case type, template defaults and required fields."
    )
    template_code: str | None = strawberry.field(
        default=None, description="Pre-fill from this template (default: the service's); given inputs win."
    )
    latitude: float | None = strawberry.field(default=None, description="Where the issue is (WGS 84), with longitude.")
    longitude: float | None = None
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class SubmitCaseInput(CaseActionInput):
    pass


@strawberry.input
class AssignCaseInput(CaseActionInput):
    assignee_id: strawberry.ID


@strawberry.input
class AcceptCaseInput(CaseActionInput):
    pass


@strawberry.input
class AssignToMeInput(CaseActionInput):
    pass


@strawberry.input(description="Requesters may change only description, contact fields and comment.")
class UpdateCaseInput(CaseActionInput):
    title: str | None = None
    description: str | None = None
    impact: int | None = None
    urgency: int | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    comment: str | None = strawberry.field(default=None, description="A public comment.")
    work_note: str | None = strawberry.field(default=None, description="An internal work note (staff only).")
    case_type_code: str | None = strawberry.field(default=None, description="Drafts only.")
    latitude: float | None = strawberry.field(default=None, description="Where the issue is (WGS 84), with longitude.")
    longitude: float | None = None


@strawberry.input
class BeginReviewInput(CaseActionInput):
    pass


@strawberry.input
class RequestInfoInput(CaseActionInput):
    question: str


@strawberry.input
class ResumeCaseInput(CaseActionInput):
    pass


@strawberry.input
class RequestInspectionInput(CaseActionInput):
    inspector_id: strawberry.ID


@strawberry.input
class CompleteInspectionInput(CaseActionInput):
    findings: str


@strawberry.input
class StartWorkInput(CaseActionInput):
    pass


@strawberry.input
class CaseTaskInput:
    title: str
    assignee_id: strawberry.ID | None = None
    due_at: datetime | None = strawberry.field(default=None, description="When the task is due (with a time zone).")


@strawberry.input
class AssignWorkInput(CaseActionInput):
    tasks: list[CaseTaskInput]


@strawberry.input
class CompleteWorkInput(CaseActionInput):
    pass


@strawberry.input
class ProposeSolutionInput(CaseActionInput):
    resolution_code: ResolutionCode
    resolution_notes: str


@strawberry.input
class AcceptSolutionInput(CaseActionInput):
    pass


@strawberry.input
class RejectSolutionInput(CaseActionInput):
    reason: str


@strawberry.input(description="Staff must give resolution notes; the requester needs nothing.")
class CloseCaseInput(CaseActionInput):
    resolution_notes: str | None = None


@strawberry.input(description="A manager must give a reason; the requester may.")
class CancelCaseInput(CaseActionInput):
    reason: str | None = None


@strawberry.input
class DeleteCaseInput(CaseActionInput):
    pass


@strawberry.input
class SubmitSurveyInput(CaseActionInput):
    rating: int = strawberry.field(description="1 to 5.")
    comment: str | None = None


@strawberry.input
class RestoreCaseInput:
    case_id: strawberry.ID
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class CompleteTaskInput:
    task_id: strawberry.ID
    note: str | None = None
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class CancelTaskInput:
    task_id: strawberry.ID
    reason: str
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class CreateAssignmentGroupInput:
    code: str
    name: str


@strawberry.input
class AddGroupMemberInput:
    group_code: str
    user_id: strawberry.ID
    is_manager: bool = False


@strawberry.input
class RemoveGroupMemberInput:
    group_code: str
    user_id: strawberry.ID


@strawberry.input
class CreateCaseTypeInput:
    code: str
    name: str
    workflow: Workflow
    assignment_group_code: str
    auto_assign: bool = strawberry.field(default=False, description="Route submitted cases to an agent automatically.")
    description: str | None = None
    skills: list[str] | None = strawberry.field(default=None, description="Skills an agent needs to be routed these.")


@strawberry.input(description="Change a case type; omitted fields stay as they are.")
class UpdateCaseTypeInput:
    code: str
    name: str | None = None
    description: str | None = None
    auto_assign: bool | None = None
    skills: list[str] | None = None
    active: bool | None = None


@strawberry.input(description="Mark an agent (default: yourself) available or not for routing.")
class SetAvailabilityInput:
    available: bool
    user_id: strawberry.ID | None = None


@strawberry.input(description="Replace an agent's skills (a manager of their group, or ADMIN).")
class SetAgentSkillsInput:
    user_id: strawberry.ID
    skills: list[str]


@strawberry.input(description="All given conditions must hold; list conditions match any value.")
class CaseFilterInput:
    status: list[CaseStatus] | None = None
    stage: list[CaseStage] | None = None
    case_type_code: list[str] | None = None
    assignment_group_code: list[str] | None = None
    assigned_to_id: strawberry.ID | None = None
    unassigned: bool | None = None
    requester_id: strawberry.ID | None = None
    priority: list[int] | None = None
    text: str | None = strawberry.field(
        default=None,
        description=(
            "Search: words of the number, title, description, public comments and (for staff) work notes; "
            "ranked, a typed case number first (orderBy does not apply)."
        ),
    )
    include_deleted: bool = strawberry.field(default=False, description="ADMIN only.")


@strawberry.input
class CaseOrderInput:
    field: CaseOrderField = CaseOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.DESC


@strawberry.input(description="One child case: its own case type (and so group), title and description.")
class ChildCaseInput:
    case_type_code: str
    title: str
    description: str | None = strawberry.field(default=None, description="Default: the parent's description.")
    impact: int | None = strawberry.field(default=None, description="Default: the parent's.")
    urgency: int | None = strawberry.field(default=None, description="Default: the parent's.")


@strawberry.input(description="Split a case into child cases with the same requester.")
class SplitCaseInput(CaseActionInput):
    children: list[ChildCaseInput]


@strawberry.input(description="Resolve the case (code DUPLICATE) as a duplicate of another, open case.")
class MarkDuplicateInput(CaseActionInput):
    duplicate_of_id: strawberry.ID = strawberry.field(description="The original case.")
    resolution_notes: str | None = strawberry.field(
        default=None, description="Shown to the requester; a neutral default is used when omitted."
    )


@strawberry.input
class PlaybookStepInput:
    stage: CaseStage
    title: str
    required: bool = True


@strawberry.input(
    description="Replace a case type's playbook; no steps removes it. Cases already submitted keep theirs."
)
class SetPlaybookInput:
    case_type_code: str
    steps: list[PlaybookStepInput]
    enforce_required_steps: bool = strawberry.field(
        default=True, description="Hold cases in a stage while its required steps are open."
    )


@strawberry.input
class CompleteStepInput:
    step_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class ReopenStepInput:
    step_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="All given conditions must hold.")
class ArticleFilterInput:
    search: str | None = strawberry.field(
        default=None, description="Words to find in title, body and keywords; ranks the results by relevance."
    )
    status: ArticleStatus | None = None
    case_type_code: str | None = None
    author_id: strawberry.ID | None = None


@strawberry.input(description="Write a new article; it starts as a DRAFT.")
class CreateArticleInput:
    title: str
    body: str
    case_type_code: str | None = None
    keywords: list[str] | None = None


@strawberry.input(description="Change an article; omitted fields stay as they are.")
class UpdateArticleInput:
    article_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION)
    title: str | None = None
    body: str | None = None
    case_type_code: str | None = None
    clear_case_type: bool = strawberry.field(default=False, description="Detach the article from its case type.")
    keywords: list[str] | None = strawberry.field(default=None, description="Replaces the keywords.")


@strawberry.input
class PublishArticleInput:
    article_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION)


@strawberry.input
class UnpublishArticleInput:
    article_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION)


@strawberry.input(description="Turn a solved case's resolution notes into a draft article.")
class CreateArticleFromCaseInput:
    case_id: strawberry.ID
    title: str | None = strawberry.field(default=None, description="Defaults to the case's title.")


@strawberry.input
class LinkArticleInput(CaseActionInput):
    article_id: strawberry.ID


@strawberry.input(description="Propose a solution (code SOLVED) whose resolution notes are the article's text.")
class ResolveWithArticleInput(CaseActionInput):
    article_id: strawberry.ID


@strawberry.input
class SetSlaPolicyInput:
    case_type_code: str
    priority: int = strawberry.field(description="1 (critical) … 5 (planning).")
    response_minutes: int | None = strawberry.field(default=None, description="Null: no response target.")
    resolution_minutes: int | None = strawberry.field(
        default=None, description="Null: no resolution target. Both null removes the policy."
    )


@strawberry.input
class StageDwellInput:
    stage: CaseStage
    minutes: int | None = strawberry.field(default=None, description="Null: the default; 0: no alert.")


@strawberry.input
class BusinessHoursWindowInput:
    weekday: Weekday
    start: str = strawberry.field(description="HH:MM")
    end: str = strawberry.field(description="HH:MM (24:00 for midnight)")


@strawberry.input
class BusinessHoursInput:
    timezone: str = strawberry.field(description="An IANA time zone, e.g. Europe/Paris.")
    windows: list[BusinessHoursWindowInput]
    holidays: list[date] = strawberry.field(default_factory=list)


@strawberry.input(description="Fields left out stay as they are; null restores a default.")
class SetSlaSettingsInput:
    case_type_code: str
    stage_dwell: list[StageDwellInput] | None = strawberry.UNSET
    unanswered_comment_minutes: int | None = strawberry.field(
        default=strawberry.UNSET, description="Null: the default; 0: no alert."
    )
    auto_close_enabled: bool | None = strawberry.UNSET
    auto_close_reminder_minutes: int | None = strawberry.field(
        default=strawberry.UNSET, description="Null: the default (5 days); 0: no reminder."
    )
    auto_close_minutes: int | None = strawberry.field(
        default=strawberry.UNSET, description="Null: the default (10 days)."
    )
    business_hours: BusinessHoursInput | None = strawberry.field(
        default=strawberry.UNSET, description="Null: count around the clock."
    )


@strawberry.input
class SetAutoCloseExcludedInput:
    case_id: strawberry.ID = strawberry.field(description=CASE_ID)
    excluded: bool
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(description="Start working on a task (OPEN → IN_PROGRESS).")
class StartTaskInput:
    task_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class RegisterPersistedQueryInput:
    document: str = strawberry.field(
        description="The operation text exactly as clients will send it: its SHA-256 is the hash they name."
    )
    name: str | None = strawberry.field(default=None, description="Defaults to the document's only operation name.")


@strawberry.input(description="All given conditions must hold; `from` is inclusive, `to` exclusive (submission time).")
class SurveyResultsFilter:
    case_type_code: str | None = None
    agent_id: strawberry.ID | None = strawberry.field(default=None, description="The case's assigned agent.")
    group_code: str | None = strawberry.field(default=None, description="The case's assignment group.")
    from_: datetime | None = strawberry.field(default=None, name="from")
    to: datetime | None = None


@strawberry.input(
    description=(
        "Which cases analytics cover; all given conditions must hold. `from` is inclusive, `to` exclusive; "
        "what they bound differs per aggregate (see each field). Group and case type codes: null or empty "
        "means every one the viewer may see."
    )
)
class AnalyticsFilterInput:
    from_: datetime | None = strawberry.field(default=None, name="from", description="A time without offset is UTC.")
    to: datetime | None = strawberry.field(default=None, description="A time without offset is UTC.")
    group_codes: list[str] | None = strawberry.field(
        default=None, description="Assignment groups; AGENT and MANAGER may name only their own."
    )
    case_type_codes: list[str] | None = None


@strawberry.input
class CreateWebhookEndpointInput:
    url: str = strawberry.field(description="http(s); loopback/private addresses are refused in production.")
    event_types: list[CaseEventType] = strawberry.field(default_factory=list, description="Empty: all.")
    case_type_codes: list[str] = strawberry.field(default_factory=list, description="Empty: all.")


@strawberry.input
class UpdateWebhookEndpointInput:
    id: strawberry.ID
    url: str | None = None
    active: bool | None = None
    event_types: list[CaseEventType] | None = None
    case_type_codes: list[str] | None = None


@strawberry.input
class CreateServiceDefinitionInput:
    code: str
    name: str
    case_type_code: str
    description: str | None = None
    template_code: str | None = strawberry.field(default=None, description="A template of the same case type.")
    public: bool = True
    active: bool = True


@strawberry.input(
    description="Change a service definition; omitted fields stay as they are, `templateCode: null` drops the template."
)
class UpdateServiceDefinitionInput:
    code: str
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    case_type_code: str | None = strawberry.UNSET
    template_code: str | None = strawberry.UNSET
    public: bool | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET


@strawberry.input
class CreateCaseTemplateInput:
    code: str
    name: str
    case_type_code: str
    title: str | None = None
    description: str | None = None
    impact: int | None = None
    urgency: int | None = None
    required_fields: list[CaseField] = strawberry.field(default_factory=list)
    active: bool = True


@strawberry.input(
    description="Change a case template; omitted fields stay as they are, null clears. Its case type stays."
)
class UpdateCaseTemplateInput:
    code: str
    name: str | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    impact: int | None = strawberry.UNSET
    urgency: int | None = strawberry.UNSET
    required_fields: list[CaseField] | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET


@strawberry.input(description="Replace the fields every case of the type must have when submitted.")
class SetCaseTypeRequiredFieldsInput:
    case_type_code: str
    required_fields: list[CaseField]


@strawberry.input
class CreatePartnerAgencyInput:
    code: str
    name: str
    graphql_url: str = strawberry.field(
        description="Its /graphql URL (http(s); private addresses refused in production)."
    )
    shared_secret: str | None = strawberry.field(
        default=None, description=("32-128 characters, the same on both sides; omitted: generated and returned once.")
    )
    receive_case_type_code: str | None = None


@strawberry.input
class UpdatePartnerAgencyInput:
    code: str
    name: str | None = None
    graphql_url: str | None = None
    shared_secret: str | None = None
    receive_case_type_code: str | None = None
    active: bool | None = None


@strawberry.input
class ReferCaseInput:
    case_id: strawberry.ID
    partner_code: str
    task_id: strawberry.ID | None = strawberry.field(default=None, description="Refer this open task only.")
    note: str | None = strawberry.field(default=None, description="For the partner (sent to it).")
    expected_version: int | None = None


@strawberry.input
class DecideReferralInput:
    case_id: strawberry.ID = strawberry.field(description="The case received from the partner.")
    reason: str | None = strawberry.field(default=None, description="Required to reject.")
    expected_version: int | None = None


@strawberry.input(description="Sent by a referring agency's casegraph.")
class ReceiveReferralInput:
    referral_id: str
    case_id: str
    case_number: str
    title: str | None = None
    description: str | None = None
    case_type_code: str | None = None
    case_type_name: str | None = None
    impact: int | None = None
    urgency: int | None = None
    task_id: str | None = None
    task_title: str | None = None
    note: str | None = None
    referred_by: str | None = None


@strawberry.input(description="Sent by the partner's casegraph when the case it received changes.")
class ReferralUpdateInput:
    referral_id: str
    sequence: int
    status: ReferralStatus | None  # type: ignore[valid-type]
    case_id: str
    case_number: str
    stage: str
    case_status: str
    occurred_at: datetime
    resolution_code: str | None = None
    resolution_notes: str | None = None
    reason: str | None = None


@strawberry.input(description="Sent by the referring agency's casegraph when the case it referred closes or reopens.")
class ReferralOutcomeInput:
    referral_id: str = strawberry.field(description="The referring agency's referral id (as in receiveReferral).")
    sequence: int = strawberry.field(
        description="The referring event's sequence: later outcomes win, repeats are no-ops."
    )
    outcome: ReferralOutcome  # type: ignore[valid-type]
    case_number: str | None = strawberry.field(default=None, description="The referring case's number.")
    reason: str | None = strawberry.field(default=None, description="Why the solution was rejected (REJECTED).")


@strawberry.input(description="Attach a file to a case (GraphQL multipart request); an ADD_ATTACHMENT event.")
class AddAttachmentInput(CaseActionInput):
    file: Upload = strawberry.field(description="The file: an image, a PDF, plain text or an office document.")
    comment: str | None = strawberry.field(
        default=None, description="A note sent with the file: a public comment, or a work note when internal."
    )
    internal: bool = strawberry.field(default=False, description="Staff only, like a work note (staff may set it).")


@strawberry.input(description="Remove a file (staff): kept in the history, its content purged.")
class RemoveAttachmentInput:
    attachment_id: strawberry.ID
    reason: str = strawberry.field(description="Why: recorded in the case's history (staff read it).")
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION)
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)
