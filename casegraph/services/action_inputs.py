"""Step 2 of every action: validate its own input and plan the change (lifecycle.md).

Runs after authorization and before the version and transition checks, so bad input is refused
with VALIDATION_FAILED naming the field, whatever state the case is in.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, TypeVar

from casegraph.database import statements
from casegraph.domain import commands
from casegraph.domain.commands import Command
from casegraph.domain.enums import CaseAction, ResolutionCode, Role
from casegraph.domain.errors import permission_denied, validation_failed
from casegraph.domain.lifecycle import DRAFT_UPDATE_FIELDS, STAFF_UPDATE_FIELDS, Grant
from casegraph.domain.priority import derive_priority
from casegraph.domain.refusals import field_not_yours
from casegraph.domain.relations import Actor, may_see
from casegraph.domain.validation import (
    clean_email,
    clean_level,
    clean_location,
    clean_phone,
    clean_rating,
    clean_text,
    clean_title,
)
from casegraph.services.notifications import NotificationKind, notify
from casegraph.services.records import CaseRecord, EventRecord
from casegraph.services.users import Claims, build_actor
from models import CaseTask, CaseType, Comment, GroupMembership, Survey, User, WorkNote

MAX_TASKS_PER_ASSIGNMENT = 50
ALL_UPDATE_FIELDS = STAFF_UPDATE_FIELDS | DRAFT_UPDATE_FIELDS


@dataclass
class Plan:
    """What an action will write besides the state: case columns, rows beside it, the summary."""

    changes: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)
    work_notes: list[str] = field(default_factory=list)
    tasks: list[tuple[str, str | None, datetime | None]] = field(default_factory=list)
    survey: tuple[int, str | None] | None = None
    mentions: list[str] = field(default_factory=list)
    # Written by ``early_effects``: the users rows it updated, as they were committed.
    assignees: tuple[User, ...] = ()

    def early_effects(self, actor_id: str, now: datetime) -> list[Callable[[CaseRecord], Awaitable[None]]]:
        """What needs no event sequence: written before it is taken (case_changes.commit_change)."""

        async def write(case: CaseRecord) -> None:
            for title, assignee, due_at in self.tasks:
                await CaseTask.create(case_id=case.id, title=title, assignee_id=assignee, due_at=due_at, created_at=now)
            if self.changes.get("assigned_to_id"):
                # Manual assignments count for routing's "idle longest" order too. The row comes
                # back whole: the payload shows the assignee without reading it again.
                self.assignees = tuple(
                    await statements.update_returning(
                        User, {"id": self.changes["assigned_to_id"]}, {"last_assigned_at": now}
                    )
                )
            if self.survey is not None:
                rating, comment = self.survey
                await Survey.create(
                    case_id=case.id, requester_id=actor_id, rating=rating, comment=comment, submitted_at=now
                )

        return [write]

    def side_effects(self, actor_id: str, now: datetime) -> list[Callable[[CaseRecord, EventRecord], Awaitable[None]]]:
        """What names the event (its sequence): written after it is taken."""

        async def write(case: CaseRecord, event: EventRecord) -> None:
            for body in self.comments:
                await statements.insert_generated(
                    Comment,
                    {
                        "case_id": case.id,
                        "author_id": actor_id,
                        "body": body,
                        "event_sequence": event.sequence,
                        "created_at": now,
                    },
                )
            for body in self.work_notes:
                await WorkNote.create(
                    case_id=case.id, author_id=actor_id, body=body, event_sequence=event.sequence, created_at=now
                )
            if self.mentions:
                await notify(
                    user_ids=self.mentions,
                    case_id=case.id,
                    kind=NotificationKind.MENTION,
                    text=f"{actor_id} mentioned you on {case.number}.",
                    now=now,
                    event_sequence=event.sequence,
                )

        return [write]


Preparer = Callable[[Command, Grant, Actor, CaseRecord], Awaitable[Plan]]
C = TypeVar("C", bound=Command)


async def prepare(action: CaseAction, command: Command, grant: Grant, actor: Actor, case: CaseRecord) -> Plan:
    preparer = _PREPARERS.get(action)
    if preparer is None:
        return Plan()
    return await preparer(command, grant, actor, case)


def _as(kind: type[C], command: Command) -> C:
    """The action's own command; another action's (or none) counts as one with nothing given,
    so its required fields are refused as missing, as the contract says."""
    return command if isinstance(command, kind) else kind()


def _required(name: str, grant: Grant) -> bool:
    return name in grant.requires


async def _assign(command: Command, grant: Grant, actor: Actor, case: CaseRecord) -> Plan:
    assignee = clean_text("assigneeId", _as(commands.Assign, command).assignee_id, required=True, limit=255)
    assert assignee is not None
    is_member = await GroupMembership.exists(group_id=case.assignment_group_id, user_id=assignee)
    if not is_member:
        raise validation_failed("assigneeId", "The assignee must be an agent of the case's assignment group.")
    if assignee == case.assigned_to_id:
        raise validation_failed("assigneeId", "The case is already assigned to that agent.")
    if assignee == case.requester_id:
        raise validation_failed("assigneeId", "The requester of a case never works on it.")
    return Plan(changes={"assigned_to_id": assignee}, summary={"assigneeId": assignee})


async def _assign_to_me(command: Command, grant: Grant, actor: Actor, case: CaseRecord) -> Plan:
    return Plan(changes={"assigned_to_id": actor.user_id}, summary={"assigneeId": actor.user_id})


async def _update(command: Command, grant: Grant, actor: Actor, case: CaseRecord) -> Plan:
    update = _as(commands.UpdateCase, command)
    # Field limits belong to a grant that covers the current state; outside every such grant
    # the transition check refuses the update (TRANSITION_NOT_ALLOWED), not the field check.
    allowed = (grant.fields or frozenset()) if case.state in grant.frm else ALL_UPDATE_FIELDS
    for name in sorted(update.given_fields()):
        if name not in allowed:
            raise permission_denied(field_not_yours(name), name)
    plan = Plan()
    if update.title is not None:
        plan.changes["title"] = clean_title(update.title, required=True)
    if update.description is not None:
        plan.changes["description"] = clean_text("description", update.description, required=False)
    if update.impact is not None:
        plan.changes["impact"] = clean_level("impact", update.impact)
    if update.urgency is not None:
        plan.changes["urgency"] = clean_level("urgency", update.urgency)
    if update.contact_email is not None:
        plan.changes["contact_email"] = clean_email("contactEmail", update.contact_email)
    if update.contact_phone is not None:
        plan.changes["contact_phone"] = clean_phone("contactPhone", update.contact_phone)
    if update.latitude is not None or update.longitude is not None:
        location = clean_location(update.latitude, update.longitude)
        if location is not None:
            plan.changes.update(latitude=location[0], longitude=location[1])
    if update.case_type_code is not None:
        case_type = await _usable_case_type(update.case_type_code, actor)
        plan.changes.update(
            case_type_id=case_type.id,
            workflow=case_type.workflow,
            assignment_group_id=case_type.assignment_group_id,
        )
    if update.comment is not None:
        plan.comments.append(_must("comment", clean_text("comment", update.comment, required=True)))
    if update.work_note is not None:
        plan.work_notes.append(_must("workNote", clean_text("workNote", update.work_note, required=True)))
    plan.mentions = await mentioned_staff(plan.comments + plan.work_notes, author=actor, case=case)
    plan.changes = {k: v for k, v in plan.changes.items() if getattr(case, k) != v}
    if "impact" in plan.changes or "urgency" in plan.changes:
        plan.changes["priority"] = derive_priority(
            plan.changes.get("impact", case.impact), plan.changes.get("urgency", case.urgency)
        )
    if not plan.changes and not plan.comments and not plan.work_notes:
        raise validation_failed("input", "Nothing to change: give at least one new value or a comment.")
    # Summaries are visible to everyone who sees the case: never copy internal text into them.
    plan.summary = {
        "changed": sorted(plan.changes),
        "comment": bool(plan.comments),
        "workNote": bool(plan.work_notes),
        "mentions": plan.mentions,
    }
    return plan


MENTION: Final = re.compile(r"(?<![\w@.])@([A-Za-z0-9][A-Za-z0-9_.-]{0,63})")
STAFF_ROLE_NAMES: Final = frozenset({Role.AGENT.value, Role.MANAGER.value, Role.FIELD_AGENT.value, Role.ADMIN.value})


async def mentioned_staff(texts: list[str], *, author: Actor, case: CaseRecord) -> list[str]:
    """Staff user ids @-mentioned in the texts (not the author); each gets a notification.

    Only staff mention: a requester's "@eli" would otherwise tell them which staff ids exist and
    let them page staff at will. Only those who may see the case are notified, so a mention
    cannot pull in (or reveal the case to) staff of other groups.
    """
    if not {role.value for role in author.roles} & STAFF_ROLE_NAMES:
        return []
    names = {match.rstrip(".") for text in texts for match in MENTION.findall(text)}
    names.discard(author.user_id)
    if not names:
        return []
    users = await User.filter(id__in=sorted(names)).values("id", "roles", "agency")
    staff = [u for u in users if STAFF_ROLE_NAMES & set(u["roles"] or [])]
    if not staff:
        return []
    tasked = frozenset(
        str(user_id)
        for user_id in await CaseTask.filter(case_id=case.id).values_list("assignee_id", flat=True)
        if user_id is not None
    )
    parties = case.parties(tasked)
    seeing: list[str] = []
    for user in staff:
        roles = frozenset(Role(role) for role in user["roles"] if role in Role.__members__)
        mentioned = await build_actor(Claims(sub=str(user["id"]), roles=roles, agency=user["agency"]))
        if may_see(mentioned, parties):
            seeing.append(mentioned.user_id)
    return sorted(seeing)


async def _request_info(command: Command, grant: Grant, actor: Actor, case: CaseRecord) -> Plan:
    question = _must("question", clean_text("question", _as(commands.RequestInfo, command).question, required=True))
    return Plan(comments=[question], summary={"question": True})


async def _request_inspection(command: Command, grant: Grant, actor: Actor, case: CaseRecord) -> Plan:
    given = _as(commands.RequestInspection, command).inspector_id
    inspector = _must("inspectorId", clean_text("inspectorId", given, required=True, limit=255))
    user = await User.get_or_none(id=inspector)
    if user is None or Role.FIELD_AGENT.value not in (user.roles or []):
        raise validation_failed("inspectorId", "The inspector must be a known field agent.")
    if inspector == case.requester_id:
        raise validation_failed("inspectorId", "The requester of a case never inspects it.")
    return Plan(changes={"inspector_id": inspector}, summary={"inspectorId": inspector})


async def _complete_inspection(command: Command, grant: Grant, actor: Actor, case: CaseRecord) -> Plan:
    findings = clean_text("findings", _as(commands.CompleteInspection, command).findings, required=True)
    return Plan(changes={"inspection_findings": findings}, summary={"findings": True})


async def _assign_work(command: Command, grant: Grant, actor: Actor, case: CaseRecord) -> Plan:
    tasks = _as(commands.AssignWork, command).tasks
    if not tasks:
        raise validation_failed("tasks", "Give at least one case task.")
    if len(tasks) > MAX_TASKS_PER_ASSIGNMENT:
        raise validation_failed("tasks", f"At most {MAX_TASKS_PER_ASSIGNMENT} tasks at a time.")
    planned: list[tuple[str, str | None, datetime | None]] = []
    for index, task in enumerate(tasks):
        title = _must(f"tasks.{index}.title", clean_title(task.title, required=True, field=f"tasks.{index}.title"))
        assignee = clean_text(f"tasks.{index}.assigneeId", task.assignee_id, required=False, limit=255)
        if assignee is not None and not await User.exists(id=assignee):
            raise validation_failed(f"tasks.{index}.assigneeId", "The task's assignee is not a known user.")
        if assignee is not None and assignee == case.requester_id:
            raise validation_failed(f"tasks.{index}.assigneeId", "The requester of a case never works on it.")
        due_at = task.due_at
        if due_at is not None and (not isinstance(due_at, datetime) or due_at.tzinfo is None):
            raise validation_failed(f"tasks.{index}.dueAt", "dueAt must be a date-time with a time zone.")
        planned.append((title, assignee, due_at))
    return Plan(tasks=planned, summary={"tasks": len(planned)})


async def _propose_solution(command: Command, grant: Grant, actor: Actor, case: CaseRecord) -> Plan:
    proposal = _as(commands.ProposeSolution, command)
    code = proposal.resolution_code
    if not isinstance(code, ResolutionCode):
        raise validation_failed("resolutionCode", "resolutionCode is required.")
    notes = clean_text("resolutionNotes", proposal.resolution_notes, required=True)
    # The event keeps the proposal itself: a rejection or a later proposal replaces the case's
    # current resolution, and history is then the only place this one lives on.
    return Plan(
        changes={"resolution_code": code, "resolution_notes": notes},
        summary={"resolutionCode": code.value, "resolutionNotes": notes},
    )


async def _reject_solution(command: Command, grant: Grant, actor: Actor, case: CaseRecord) -> Plan:
    reason = _must("reason", clean_text("reason", _as(commands.RejectSolution, command).reason, required=True))
    return Plan(
        changes={"reopen_count": case.reopen_count + 1, "resolution_code": None, "resolution_notes": None},
        comments=[reason],
        summary={"reason": True},
    )


async def _close(command: Command, grant: Grant, actor: Actor, case: CaseRecord) -> Plan:
    given = _as(commands.Close, command).resolution_notes
    notes = clean_text("resolutionNotes", given, required=_required("resolutionNotes", grant))
    # Resolution notes are public (the requester reads them), so the event keeps their text.
    return Plan(changes={"resolution_notes": notes} if notes else {}, summary={"resolutionNotes": notes})


async def _cancel(command: Command, grant: Grant, actor: Actor, case: CaseRecord) -> Plan:
    reason = clean_text("reason", _as(commands.Cancel, command).reason, required=_required("reason", grant))
    return Plan(
        changes={"cancel_reason": reason} if reason else {},
        comments=[reason] if reason else [],
        summary={"reason": bool(reason)},
    )


async def _submit_survey(command: Command, grant: Grant, actor: Actor, case: CaseRecord) -> Plan:
    survey = _as(commands.SubmitSurvey, command)
    rating = survey.rating
    if not isinstance(rating, int) or isinstance(rating, bool):
        raise validation_failed("rating", "rating is required.")
    comment = clean_text("comment", survey.comment, required=False)
    return Plan(survey=(clean_rating(rating), comment), summary={"rating": rating})


async def _usable_case_type(code: Any, actor: Actor, *, any_group: bool = False) -> CaseType:
    """An active case type the actor may file under (staff: only their groups' types).

    ``any_group``: a partner's referral becomes a case of the type our administrator chose for it.
    """
    cleaned = clean_text("caseTypeCode", code, required=True, limit=64)
    case_type = await CaseType.get_or_none(code=cleaned, active=True)
    if case_type is None:
        raise validation_failed("caseTypeCode", "No active case type has that code.")
    if not any_group and not actor.has(Role.CONSTITUENT) and case_type.assignment_group_id not in actor.group_ids:
        raise permission_denied("Staff may create cases only of their own groups' case types.", "caseTypeCode")
    return case_type


def _must(field_name: str, value: str | None) -> str:
    if value is None:
        raise validation_failed(field_name, f"{field_name} is required.")
    return value


_PREPARERS: dict[CaseAction, Preparer] = {
    CaseAction.ASSIGN: _assign,
    CaseAction.ASSIGN_TO_ME: _assign_to_me,
    CaseAction.UPDATE: _update,
    CaseAction.REQUEST_INFO: _request_info,
    CaseAction.REQUEST_INSPECTION: _request_inspection,
    CaseAction.COMPLETE_INSPECTION: _complete_inspection,
    CaseAction.ASSIGN_WORK: _assign_work,
    CaseAction.PROPOSE_SOLUTION: _propose_solution,
    CaseAction.REJECT_SOLUTION: _reject_solution,
    CaseAction.CLOSE: _close,
    CaseAction.CANCEL: _cancel,
    CaseAction.SUBMIT_SURVEY: _submit_survey,
}

usable_case_type = _usable_case_type
