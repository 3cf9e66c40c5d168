"""Splitting a case into child cases (issue 4, *Parent and child cases*).

One request that needs two departments becomes a parent with one child per department: each
child has its own case type (so its own group), title and description, and the parent's
requester. One transaction records the parent's SPLIT_CASE event and each child's CASE_CREATED
event; children of auto-assign types are routed after the commit, like any submitted case.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from casegraph.database.counters import CASE_NUMBER, CASE_NUMBER_START, next_value
from casegraph.domain.case_tree import MAX_CHILDREN_PER_SPLIT
from casegraph.domain.desk_actions import SPLITTABLE, SPLITTERS
from casegraph.domain.enums import CaseAction, CaseEventType, CaseStage, CaseStatus
from casegraph.domain.errors import permission_denied, transition_not_allowed, validation_failed, version_conflict
from casegraph.domain.priority import derive_priority
from casegraph.domain.relations import Actor, relations_of
from casegraph.domain.validation import clean_level, clean_text, clean_title
from casegraph.services.case_changes import ActionResult, StaleCase, commit_change
from casegraph.services.event_log import append_event
from casegraph.services.extensions import Transition, check_transition, run_change_hooks
from casegraph.services.publisher import Publisher
from casegraph.services.records import CASE_COLUMNS, CaseRecord, EventRecord
from casegraph.services.routing import route_if_automatic
from casegraph.services.visibility import load_visible_case
from models import Case, CaseType

MAX_ATTEMPTS: Final = 1000  # see case_actions.MAX_ATTEMPTS


@dataclass(frozen=True)
class ChildSpec:
    case_type_code: str
    title: str
    description: str | None = None
    impact: int | None = None
    urgency: int | None = None


@dataclass(frozen=True)
class SplitRequest:
    case_id: str
    children: Sequence[ChildSpec]
    expected_version: int | None = None


@dataclass(frozen=True)
class _PlannedChild:
    case_type: CaseType
    title: str
    description: str | None
    impact: int | None
    urgency: int | None


async def split_case(
    *,
    actor: Actor,
    request: SplitRequest,
    now: datetime,
    publisher: Publisher,
    on_success: Callable[[ActionResult], Awaitable[None]] | None = None,
) -> ActionResult:
    """Split as the parent's assigned agent or a manager of its group; ``extra["child_ids"]``."""
    for _ in range(MAX_ATTEMPTS):
        parent = await load_visible_case(actor, request.case_id)
        if not relations_of(actor, parent.parties()) & SPLITTERS:
            raise permission_denied("Only the case's assigned agent or a manager of its group may split it.")
        planned = [await _plan(index, spec) for index, spec in enumerate(request.children)]
        if not planned:
            raise validation_failed("children", "Give at least one child case.")
        if len(planned) > MAX_CHILDREN_PER_SPLIT:
            raise validation_failed("children", f"At most {MAX_CHILDREN_PER_SPLIT} child cases at a time.")
        if request.expected_version is not None and request.expected_version != parent.version:
            raise version_conflict(request.expected_version, parent.version)
        if parent.state not in SPLITTABLE:
            raise transition_not_allowed(f"A case cannot be split in {parent.status.value}.")
        await check_transition(
            Transition(case=parent, action=CaseAction.SPLIT_CASE, target=parent.state, actor=actor, now=now)
        )
        children: list[tuple[CaseRecord, EventRecord]] = []

        # B023: both closures run inside this attempt's commit_change, before the loop moves on.
        async def create_children(after: CaseRecord, _: EventRecord) -> None:
            children.clear()  # noqa: B023
            for child in planned:  # noqa: B023
                children.append(await _insert_child(after, child, actor, now))  # noqa: B023

        async def store(result: ActionResult) -> None:
            if on_success is not None:
                await on_success(_with_children(result, children))  # noqa: B023

        try:
            result = await commit_change(
                case=parent,
                actor_id=actor.user_id,
                action=CaseAction.SPLIT_CASE,
                event_type=CaseEventType.CASE_UPDATED,
                target=parent.state,
                changes={},
                summary={"children": len(planned), "caseTypes": [c.case_type.code for c in planned]},
                now=now,
                side_effects=[create_children],
                on_success=store,
            )
        except StaleCase:
            continue
        await publisher.published([result.event, *(event for _, event in children)])
        for child, _ in children:
            await route_if_automatic(case=child, now=now, publisher=publisher)
        return _with_children(result, children)
    raise transition_not_allowed("The case kept changing; reload it and try again.")


def _with_children(result: ActionResult, children: Sequence[tuple[CaseRecord, EventRecord]]) -> ActionResult:
    return ActionResult(result.case, result.event, {"child_ids": [child.id for child, _ in children]})


async def _plan(index: int, spec: ChildSpec) -> _PlannedChild:
    prefix = f"children.{index}"
    code = clean_text(f"{prefix}.caseTypeCode", spec.case_type_code, required=True, limit=64)
    # Any active case type: a child usually goes to another department than the splitter's.
    case_type = await CaseType.get_or_none(code=code, active=True)
    if case_type is None:
        raise validation_failed(f"{prefix}.caseTypeCode", "No active case type has that code.")
    title = clean_title(spec.title, required=True, field=f"{prefix}.title")
    assert title is not None
    return _PlannedChild(
        case_type=case_type,
        title=title,
        description=clean_text(f"{prefix}.description", spec.description, required=False),
        impact=clean_level(f"{prefix}.impact", spec.impact),
        urgency=clean_level(f"{prefix}.urgency", spec.urgency),
    )


async def _insert_child(
    parent: CaseRecord, child: _PlannedChild, actor: Actor, now: datetime
) -> tuple[CaseRecord, EventRecord]:
    """A submitted case for the parent's requester, in the split's transaction."""
    impact = child.impact or parent.impact
    urgency = child.urgency or parent.urgency
    number = await next_value(CASE_NUMBER, start=CASE_NUMBER_START)
    row = await Case.create(
        id=uuid.uuid4(),
        number=f"CS{number:07d}",
        title=child.title,
        description=child.description if child.description is not None else parent.description,
        stage=CaseStage.INTAKE,
        status=CaseStatus.NEW,
        workflow=child.case_type.workflow,
        case_type_id=child.case_type.id,
        assignment_group_id=child.case_type.assignment_group_id,
        impact=impact,
        urgency=urgency,
        priority=derive_priority(impact, urgency),
        channel=parent.channel,
        requester_id=parent.requester_id,
        author_id=actor.user_id,
        contact_email=parent.contact_email,
        contact_phone=parent.contact_phone,
        latitude=parent.latitude,
        longitude=parent.longitude,
        parent_id=parent.id,
        version=1,
        submitted_at=now,
        created_at=now,
        updated_at=now,
    )
    record = CaseRecord.from_row({name: getattr(row, name) for name in CASE_COLUMNS})
    event = await append_event(
        case_id=record.id,
        actor_id=actor.user_id,
        event_type=CaseEventType.CASE_CREATED,
        action=CaseAction.CREATE,
        before=None,
        after=record.state,
        version=1,
        summary={
            "submitted": True,
            "channel": record.channel.value,
            "parentId": parent.id,
            "parentNumber": parent.number,
        },
        now=now,
    )
    await run_change_hooks(record, record, event)
    return record, event
