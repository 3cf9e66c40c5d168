"""A case and what points back at it: its events, tasks, notes, children and linked articles.

Scalars are plain attributes copied from records (no resolver cost); relations and computed
fields resolve through the request's loaders, or through a resolver that returns records.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from casegraph.domain import attachments, desk_actions, lifecycle
from casegraph.domain.event_details import public_details
from casegraph.domain.relations import relations_of
from casegraph.services.case_queries import case_history
from casegraph.services.records import CaseRecord, EventRecord
from models import Article as ArticleRow
from models import CaseTask as TaskRow
from models import Comment as CommentRow
from models import ReferralStatus as ReferralStatusRow
from models import Survey as SurveyRow
from models import WorkNote as WorkNoteRow
from resolvers import case_tree, duplicates, entities, knowledge
from resolvers.available_actions import available_actions as refined_available_actions
from resolvers.loaders import (
    AttachmentsByCase,
    AttachmentsByNote,
    CaseTypeById,
    CommentsByCase,
    InboundReferralStatusByCase,
    OpenStepCountByCase,
    OpenTaskCountByCase,
    SurveyByCase,
    TasksByCase,
    VisibleCaseById,
    WorkNotesByCase,
)
from resolvers.playbooks import case_playbook
from resolvers.referrals import referrals_of
from resolvers.sla import case_sla_timers
from schema.context import Info
from schema.enums import (
    ArticleStatus,
    CaseAction,
    CaseEventType,
    CaseStage,
    CaseStatus,
    Channel,
    ResolutionCode,
    TaskState,
    Workflow,
)
from schema.types.attachments import Attachment
from schema.types.case_type import CaseType
from schema.types.common import PageInfo
from schema.types.people import AssignmentGroup, User, _group, _user
from schema.types.playbooks import CasePlaybook
from schema.types.referrals import Referral
from schema.types.sla import SlaTimer


@strawberry.type(description="A work-order line of a case.")
class CaseTask:
    id: strawberry.ID
    title: str
    state: TaskState
    due_at: datetime | None
    note: str | None
    created_at: datetime
    finished_at: datetime | None
    _assignee_id: strawberry.Private[str | None]
    _case_id: strawberry.Private[str]

    @strawberry.field
    async def assignee(self, info: Info) -> User | None:
        return await _user(info, self._assignee_id)

    @strawberry.field(description="The case this task belongs to.")
    async def case(self, info: Info) -> Case | None:
        record = await info.context.loaders[VisibleCaseById].load(self._case_id)
        return Case.from_record(record) if record is not None else None

    @classmethod
    def from_row(cls, row: TaskRow) -> CaseTask:
        return cls(
            id=strawberry.ID(str(row.id)),
            title=row.title,
            state=row.state,
            due_at=row.due_at,
            note=row.note,
            created_at=row.created_at,
            finished_at=row.finished_at,
            _assignee_id=row.assignee_id,
            _case_id=str(row.case_id),
        )


@strawberry.type(description="The requester's satisfaction survey.")
class Survey:
    rating: int
    comment: str | None
    submitted_at: datetime

    @classmethod
    def from_row(cls, row: SurveyRow) -> Survey:
        return cls(rating=row.rating, comment=row.comment, submitted_at=row.submitted_at)


@strawberry.type(description="A note on a case: public comment or internal work note.")
class Note:
    id: strawberry.ID
    body: str
    created_at: datetime
    _author_id: strawberry.Private[str]
    _kind: strawberry.Private[str]

    @strawberry.field
    async def author(self, info: Info) -> User | None:
        return await _user(info, self._author_id)

    @strawberry.field(description="Files sent with the note (a work note's: staff only).")
    async def attachments(self, info: Info) -> list[Attachment]:
        rows = await info.context.loaders[AttachmentsByNote].load((self._kind, int(self.id)))
        return [Attachment.from_row(row) for row in rows]

    @classmethod
    def from_row(cls, row: CommentRow | WorkNoteRow) -> Note:
        return cls(
            id=strawberry.ID(str(row.id)),
            body=row.body,
            created_at=row.created_at,
            _author_id=row.author_id,
            _kind="comment" if isinstance(row, CommentRow) else "work_note",
        )


@strawberry.type(description="One recorded change of a case; history and subscription feed alike.")
class CaseEvent:
    id: strawberry.ID
    sequence: int = strawberry.field(description="Strictly increasing over the whole event log.")
    type: CaseEventType
    action: CaseAction
    from_stage: CaseStage | None
    from_status: CaseStatus | None
    to_stage: CaseStage
    to_status: CaseStatus
    version: int = strawberry.field(description="The case's version after this event.")
    occurred_at: datetime
    _summary: strawberry.Private[dict[str, Any]]
    _case_id: strawberry.Private[str]
    _actor_id: strawberry.Private[str | None]
    # Subscriptions hand over the case the hub already loaded (and checked visibility of).
    _case: strawberry.Private[CaseRecord | None] = None
    _request_id: strawberry.Private[str | None] = None

    @strawberry.field
    async def case(self, info: Info) -> Case | None:
        record = self._case or await info.context.loaders[VisibleCaseById].load(self._case_id)
        return Case.from_record(record) if record is not None else None

    @strawberry.field(description="Who acted; null for the system (timers, automation).")
    async def actor(self, info: Info) -> User | None:
        return await _user(info, self._actor_id)

    @strawberry.field(
        description="The X-Request-ID of the request that recorded it, to find it in the server logs; "
        "staff only (null for others, and for events recorded by timers)."
    )
    def request_id(self, info: Info) -> str | None:
        return self._request_id if info.context.sees_internal else None

    @strawberry.field(
        description="A summary of the action's input (never internal text); for viewers outside the staff "
        "only its public part: no internal flags, mentions, other cases' or internal ids."
    )
    def details(self, info: Info) -> JSON:
        return cast(JSON, self._summary if info.context.sees_internal else public_details(self._summary))

    @classmethod
    def from_record(cls, record: EventRecord, case: CaseRecord | None = None) -> CaseEvent:
        return cls(
            id=strawberry.ID(str(record.sequence)),
            sequence=record.sequence,
            type=record.type,
            action=record.action,
            from_stage=record.from_stage,
            from_status=record.from_status,
            to_stage=record.to_stage,
            to_status=record.to_status,
            version=record.version,
            occurred_at=record.occurred_at,
            _summary=record.summary,
            _case_id=record.case_id,
            _actor_id=record.actor_id,
            _case=case,
            _request_id=record.request_id,
        )


@strawberry.type
class CaseEventEdge:
    cursor: str
    node: CaseEvent


@strawberry.type(description="A page of case events.")
class CaseEventConnection:
    edges: list[CaseEventEdge]
    page_info: PageInfo
    total_count: int


@strawberry.federation.type(keys=["id"], description="A constituent's request and where it stands in its life cycle.")
class Case:
    id: strawberry.ID
    number: str
    title: str | None
    description: str | None
    stage: CaseStage
    status: CaseStatus
    workflow: Workflow
    impact: int
    urgency: int
    priority: int = strawberry.field(description="Derived from impact × urgency: 1 critical … 5 planning.")
    channel: Channel
    version: int
    resolution_code: ResolutionCode | None
    resolution_notes: str | None
    reopen_count: int
    contact_email: str | None
    contact_phone: str | None
    latitude: float | None
    longitude: float | None
    cancel_reason: str | None
    submitted_at: datetime | None
    first_opened_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    deleted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    _record: strawberry.Private[CaseRecord]

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Case | None:
        record = await entities.visible_case(info, str(id))
        return cls.from_record(record) if record is not None else None

    @classmethod
    def from_record(cls, record: CaseRecord) -> Case:
        return cls(
            id=strawberry.ID(record.id),
            number=record.number,
            title=record.title,
            description=record.description,
            stage=record.stage,
            status=record.status,
            workflow=record.workflow,
            impact=record.impact,
            urgency=record.urgency,
            priority=record.priority,
            channel=record.channel,
            version=record.version,
            resolution_code=record.resolution_code,
            resolution_notes=record.resolution_notes,
            reopen_count=record.reopen_count,
            contact_email=record.contact_email,
            contact_phone=record.contact_phone,
            latitude=record.latitude,
            longitude=record.longitude,
            cancel_reason=record.cancel_reason,
            submitted_at=record.submitted_at,
            first_opened_at=record.first_opened_at,
            resolved_at=record.resolved_at,
            closed_at=record.closed_at,
            deleted_at=record.deleted_at,
            created_at=record.created_at,
            updated_at=record.updated_at,
            _record=record,
        )

    @strawberry.field
    async def case_type(self, info: Info) -> CaseType | None:
        if self._record.case_type_id is None:
            return None
        row = await info.context.loaders[CaseTypeById].load(self._record.case_type_id)
        return CaseType.from_row(row) if row is not None else None

    @strawberry.field
    async def assignment_group(self, info: Info) -> AssignmentGroup | None:
        return await _group(info, self._record.assignment_group_id)

    @strawberry.field
    async def requester(self, info: Info) -> User:
        user = await _user(info, self._record.requester_id)
        assert user is not None
        return user

    @strawberry.field
    async def assigned_to(self, info: Info) -> User | None:
        return await _user(info, self._record.assigned_to_id)

    @strawberry.field(description="The field agent asked to inspect (public-service workflow).")
    async def inspector(self, info: Info) -> User | None:
        return await _user(info, self._record.inspector_id)

    @strawberry.field(description="Inspection findings; staff only.")
    def inspection_findings(self, info: Info) -> str | None:
        return self._record.inspection_findings if info.context.sees_internal else None

    @strawberry.field(
        description="The token a mail about this case must carry for its reply to be added to the case "
        "(e.g. in the subject as [CS0001042-…]); staff only, null while e-mail intake is off."
    )
    def reply_token(self, info: Info) -> str | None:
        reply = info.context.reply_addresses
        if reply is None or not info.context.sees_internal:
            return None
        return reply.token(case_id=self._record.id, number=self._record.number)

    @strawberry.field(
        description="The address replies about this case go to (the intake mailbox with the reply token, "
        "cases+CS0001042-…@city.example); staff only, null unless CASEGRAPH_INTAKE_ADDRESS is set."
    )
    def reply_address(self, info: Info) -> str | None:
        reply = info.context.reply_addresses
        if reply is None or not info.context.sees_internal:
            return None
        return reply.address(case_id=self._record.id, number=self._record.number)

    @strawberry.field(
        description="What the viewer may do with the case's files now (ADD_ATTACHMENT, REMOVE_ATTACHMENT): "
        "where pages offer the file picker and the remove buttons."
    )
    def attachment_actions(self, info: Info) -> list[CaseAction]:
        actor = info.context.actor
        if actor is None:
            return []
        record = self._record
        return attachments.available_actions(
            workflow=record.workflow,
            state=record.state,
            relations=relations_of(actor, record.parties()),
            facts=lifecycle.Facts(deleted=record.deleted),
        )

    @strawberry.field(description="What the viewer may do now: the buttons a dashboard draws.")
    async def available_actions(self, info: Info) -> list[CaseAction]:
        actor = info.context.actor
        if actor is None:
            return []
        record = self._record
        open_tasks = 0
        if record.status in (lifecycle.PROCESS_WORK[1], lifecycle.PROCESS_ASSIGNMENT[1]):
            open_tasks = await info.context.loaders[OpenTaskCountByCase].load(record.id)
        survey_submitted = False
        if record.solution_accepted:
            survey_submitted = await info.context.loaders[SurveyByCase].load(record.id) is not None
        relations = relations_of(actor, record.parties())
        open_steps = 0
        if relations & desk_actions.STEP_KEEPERS and not lifecycle.is_terminal(record.status):
            open_steps = await info.context.loaders[OpenStepCountByCase].load(record.id)
        referral = None
        if record.channel is Channel.PARTNER and relations & desk_actions.REFERRAL_ACCEPTERS:
            referral = await info.context.loaders[InboundReferralStatusByCase].load(record.id)
        return await refined_available_actions(
            loaders=info.context.loaders,
            record=record,
            relations=relations,
            facts=record.facts(
                open_tasks=open_tasks,
                survey_submitted=survey_submitted,
                open_steps=open_steps,
                referral_undecided=referral is ReferralStatusRow.DELIVERED,
                referral_open=referral in (ReferralStatusRow.DELIVERED, ReferralStatusRow.ACCEPTED),
            ),
        )

    @strawberry.field(
        description=(
            "The fields the viewer may change now with updateCase (comment and workNote aside): what an edit "
            "form offers. Empty when the viewer may only add notes, or not update at all."
        )
    )
    def editable_fields(self, info: Info) -> list[str]:
        actor = info.context.actor
        if actor is None:
            return []
        record = self._record
        return lifecycle.editable_fields(
            workflow=record.workflow,
            state=record.state,
            relations=relations_of(actor, record.parties()),
            facts=record.facts(),
        )

    @strawberry.field(description="The case's events, oldest first.")
    async def history(self, info: Info, first: int | None = None, after: str | None = None) -> CaseEventConnection:
        page = await case_history(
            case_id=self._record.id, first=first, after=after, max_page=info.context.max_page_size
        )
        edges = [CaseEventEdge(cursor=c, node=CaseEvent.from_record(r)) for r, c in zip(page.records, page.cursors)]
        return CaseEventConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
            total_count=page.total,
        )

    @strawberry.field(description="Case tasks (work-order lines), oldest first.")
    async def tasks(self, info: Info) -> list[CaseTask]:
        rows = await info.context.loaders[TasksByCase].load(self._record.id)
        return [CaseTask.from_row(row) for row in rows]

    @strawberry.field(description="The satisfaction survey, once submitted.")
    async def survey(self, info: Info) -> Survey | None:
        row = await info.context.loaders[SurveyByCase].load(self._record.id)
        return Survey.from_row(row) if row is not None else None

    @strawberry.field(description="Public comments, oldest first.")
    async def comments(self, info: Info) -> list[Note]:
        rows = await info.context.loaders[CommentsByCase].load(self._record.id)
        return [Note.from_row(row) for row in rows]

    @strawberry.field(description="Files on the case, oldest first; internal ones for staff only.")
    async def attachments(self, info: Info) -> list[Attachment]:
        rows = await info.context.loaders[AttachmentsByCase].load(self._record.id)
        return [Attachment.from_row(row) for row in rows]

    @strawberry.field(description="Internal work notes, oldest first; staff only (empty for others).")
    async def work_notes(self, info: Info) -> list[Note]:
        if not info.context.sees_internal:
            return []
        rows = await info.context.loaders[WorkNotesByCase].load(self._record.id)
        return [Note.from_row(row) for row in rows]

    @strawberry.field(
        description="Referrals to and from partner agencies, oldest first; staff only (empty for others)."
    )
    async def referrals(self, info: Info) -> list[Referral]:
        if not info.context.sees_internal:
            return []
        return await referrals_of(self._record.id)

    @strawberry.field(description="The service definition the case was filed under, if any.")
    def service_definition_code(self) -> str | None:
        return self._record.service_definition_code

    @strawberry.field(description="The checklist with progress; staff only (null for others or without one).")
    async def playbook(self, info: Info) -> CasePlaybook | None:
        return await case_playbook(info, self._record)

    @strawberry.field(description="The case this one was split off, if the viewer may see it.")
    async def parent(self, info: Info) -> Case | None:
        parent = await case_tree.parent_of(info, self._record)
        return Case.from_record(parent) if parent is not None else None

    @strawberry.field(description="Child cases split off this one and their progress.")
    async def children(self, info: Info) -> CaseChildren:
        counts, visible = await case_tree.children_of(info, self._record)
        return CaseChildren(
            total=counts.total,
            open=counts.open,
            by_status=[StatusCount(status=status, count=count) for status, count in counts.by_status],
            cases=[Case.from_record(child) for child in visible],
        )

    @strawberry.field(description="SLA timers (response, resolution): target, elapsed, remaining, paused, breached.")
    async def sla_timers(self, info: Info) -> list[SlaTimer]:
        return await case_sla_timers(info, self._record)

    @strawberry.field(description="Flagged when an SLA of the case was breached.")
    def escalated(self) -> bool:
        return self._record.escalated

    @strawberry.field(description="Excluded from auto-close of resolved cases (setAutoCloseExcluded).")
    def auto_close_excluded(self) -> bool:
        return self._record.auto_close_excluded

    @strawberry.field(description="Knowledge articles linked to the case (those the viewer may read), in link order.")
    async def linked_articles(self, info: Info) -> list[Article]:
        return [Article.from_row(row) for row in await knowledge.linked_articles(info, self._record.id)]

    @strawberry.field(description="The original case, while this one stands resolved as its duplicate (if visible).")
    async def duplicate_of(self, info: Info) -> Case | None:
        original = await duplicates.original_of(info, self._record)
        return Case.from_record(original) if original is not None else None

    @strawberry.field(description="Cases resolved as duplicates of this one that the viewer may see, oldest first.")
    async def duplicates(self, info: Info) -> list[Case]:
        return [Case.from_record(record) for record in await duplicates.duplicates_of(info, self._record.id)]


@strawberry.type
class CaseEdge:
    cursor: str
    node: Case


@strawberry.type(description="A page of cases.")
class CaseConnection:
    edges: list[CaseEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type(description="How many open cases of a group are in one status.")
class StatusCount:
    status: CaseStatus
    count: int


@strawberry.type(description="Live counters of a group's open cases, as of an event sequence.")
class QueueCounters:
    group_code: str
    total: int
    by_status: list[StatusCount]
    as_of_sequence: int = strawberry.field(description="Every event up to this sequence is counted.")


@strawberry.type(description="A parent case's children: progress over all of them, and those the viewer may see.")
class CaseChildren:
    total: int
    open: int = strawberry.field(description="Children not yet resolved, closed or cancelled.")
    by_status: list[StatusCount]
    cases: list[Case] = strawberry.field(description="The children the viewer may see, oldest first.")


@strawberry.type(description="A knowledge-base article: published ones are read by everyone, drafts by staff.")
class Article:
    id: strawberry.ID
    title: str
    body: str
    status: ArticleStatus
    keywords: list[str]
    version: int = strawberry.field(description="Bumped by each change; pass it as `expectedVersion`.")
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    _case_type_id: strawberry.Private[int | None]
    _author_id: strawberry.Private[str]
    _published_by_id: strawberry.Private[str | None]
    _source_case_id: strawberry.Private[str | None]

    @strawberry.field(description="The case type the article is about, if any.")
    async def case_type(self, info: Info) -> CaseType | None:
        if self._case_type_id is None:
            return None
        row = await info.context.loaders[CaseTypeById].load(self._case_type_id)
        return CaseType.from_row(row) if row is not None else None

    @strawberry.field
    async def author(self, info: Info) -> User | None:
        return await _user(info, self._author_id)

    @strawberry.field
    async def published_by(self, info: Info) -> User | None:
        return await _user(info, self._published_by_id)

    @strawberry.field(description="The resolved case the article was written from, if the viewer may see it.")
    async def source_case(self, info: Info) -> Case | None:
        if self._source_case_id is None:
            return None
        record = await info.context.loaders[VisibleCaseById].load(self._source_case_id)
        return Case.from_record(record) if record is not None else None

    @classmethod
    def from_row(cls, row: ArticleRow) -> Article:
        return cls(
            id=strawberry.ID(str(row.id)),
            title=row.title,
            body=row.body,
            status=row.status,
            keywords=list(row.keywords or []),
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            published_at=row.published_at,
            _case_type_id=row.case_type_id,
            _author_id=row.author_id,
            _published_by_id=row.published_by_id,
            _source_case_id=None if row.source_case_id is None else str(row.source_case_id),
        )


@strawberry.type(description="An open case that may be the same request as another, and why.")
class SimilarCase:
    case: Case
    score: float = strawberry.field(
        description="0 … 1: text similarity, blended with proximity (within the radius) when both cases have a location."
    )
    text_similarity: float = strawberry.field(description="0 … 1: how alike title and description are.")
    distance_meters: float | None = strawberry.field(description="Null unless both cases have a location.")
