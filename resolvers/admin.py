"""Thin glue for administration mutations (ADMIN only; refusals as data)."""

from __future__ import annotations

from casegraph.domain.errors import DomainError
from casegraph.services import admin, agents
from schema.context import Info
from schema.inputs import (
    AddGroupMemberInput,
    CreateAssignmentGroupInput,
    CreateCaseTypeInput,
    RemoveGroupMemberInput,
    SetAgentSkillsInput,
    SetAvailabilityInput,
    UpdateCaseTypeInput,
)
from schema.payloads import AssignmentGroupPayload, CaseTypePayload, GroupMemberPayload, UserPayload, user_errors
from schema.types import AssignmentGroup, CaseType, GroupMember, User
from models import AssignmentGroup as GroupRow


async def create_assignment_group(info: Info, input: CreateAssignmentGroupInput) -> AssignmentGroupPayload:
    try:
        group = await admin.create_assignment_group(
            actor=info.context.require_actor(), code=input.code, name=input.name, now=info.context.clock()
        )
    except DomainError as refusal:
        return AssignmentGroupPayload(errors=user_errors(refusal))
    return AssignmentGroupPayload(assignment_group=AssignmentGroup.from_row(group))


async def add_group_member(info: Info, input: AddGroupMemberInput) -> GroupMemberPayload:
    try:
        membership = await admin.add_group_member(
            actor=info.context.require_actor(),
            group_code=input.group_code,
            user_id=str(input.user_id),
            is_manager=input.is_manager,
            now=info.context.clock(),
        )
    except DomainError as refusal:
        return GroupMemberPayload(errors=user_errors(refusal))
    await _access_changed(info, membership.user_id)
    group = await GroupRow.get(id=membership.group_id)
    return GroupMemberPayload(
        assignment_group=AssignmentGroup.from_row(group),
        member=GroupMember(is_manager=membership.is_manager, _user_id=membership.user_id),
    )


async def remove_group_member(info: Info, input: RemoveGroupMemberInput) -> GroupMemberPayload:
    try:
        group = await admin.remove_group_member(
            actor=info.context.require_actor(), group_code=input.group_code, user_id=str(input.user_id)
        )
    except DomainError as refusal:
        return GroupMemberPayload(errors=user_errors(refusal))
    await _access_changed(info, str(input.user_id))
    return GroupMemberPayload(assignment_group=AssignmentGroup.from_row(group))


async def _access_changed(info: Info, user_id: str) -> None:
    """After the commit: the user's open sockets re-authorize (casegraph/events/access.py)."""
    live = info.context.live
    if live is not None:
        await live.access_changed(user_id)


async def create_case_type(info: Info, input: CreateCaseTypeInput) -> CaseTypePayload:
    try:
        case_type = await admin.create_case_type(
            actor=info.context.require_actor(),
            code=input.code,
            name=input.name,
            workflow=input.workflow,
            assignment_group_code=input.assignment_group_code,
            auto_assign=input.auto_assign,
            description=input.description,
            now=info.context.clock(),
            skills=input.skills or [],
        )
    except DomainError as refusal:
        return CaseTypePayload(errors=user_errors(refusal))
    return CaseTypePayload(case_type=CaseType.from_row(case_type))


async def update_case_type(info: Info, input: UpdateCaseTypeInput) -> CaseTypePayload:
    try:
        case_type = await admin.update_case_type(
            actor=info.context.require_actor(),
            code=input.code,
            name=input.name,
            description=input.description,
            auto_assign=input.auto_assign,
            skills=input.skills,
            active=input.active,
        )
    except DomainError as refusal:
        return CaseTypePayload(errors=user_errors(refusal))
    return CaseTypePayload(case_type=CaseType.from_row(case_type))


async def set_availability(info: Info, input: SetAvailabilityInput) -> UserPayload:
    try:
        user = await agents.set_availability(
            actor=info.context.require_actor(),
            user_id=None if input.user_id is None else str(input.user_id),
            available=input.available,
        )
    except DomainError as refusal:
        return UserPayload(errors=user_errors(refusal))
    return UserPayload(user=User.from_row(user))


async def set_agent_skills(info: Info, input: SetAgentSkillsInput) -> UserPayload:
    try:
        user = await agents.set_skills(
            actor=info.context.require_actor(), user_id=str(input.user_id), skills=input.skills
        )
    except DomainError as refusal:
        return UserPayload(errors=user_errors(refusal))
    return UserPayload(user=User.from_row(user))
