"""Thin glue for administration mutations (ADMIN only; refusals as data)."""

from __future__ import annotations

from casegraph.services import admin, agents
from models import AssignmentGroup as GroupRow
from models import GroupMembership
from resolvers.pipeline import run_mutation
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
from schema.payloads import AssignmentGroupPayload, CaseTypePayload, GroupMemberPayload, UserPayload, refused
from schema.types.case_type import CaseType
from schema.types.people import AssignmentGroup, GroupMember, User


async def create_assignment_group(info: Info, input: CreateAssignmentGroupInput) -> AssignmentGroupPayload:
    return await run_mutation(
        info,
        refused=refused(AssignmentGroupPayload),
        call=lambda actor: admin.create_assignment_group(
            actor=actor, code=input.code, name=input.name, now=info.context.clock()
        ),
        done=lambda group: AssignmentGroupPayload(assignment_group=AssignmentGroup.from_row(group)),
    )


async def add_group_member(info: Info, input: AddGroupMemberInput) -> GroupMemberPayload:
    async def payload(membership: GroupMembership) -> GroupMemberPayload:
        await _access_changed(info, membership.user_id)
        group = await GroupRow.get(id=membership.group_id)
        return GroupMemberPayload(
            assignment_group=AssignmentGroup.from_row(group),
            member=GroupMember(is_manager=membership.is_manager, _user_id=membership.user_id),
        )

    return await run_mutation(
        info,
        refused=refused(GroupMemberPayload),
        call=lambda actor: admin.add_group_member(
            actor=actor,
            group_code=input.group_code,
            user_id=str(input.user_id),
            is_manager=input.is_manager,
            now=info.context.clock(),
        ),
        done=payload,
    )


async def remove_group_member(info: Info, input: RemoveGroupMemberInput) -> GroupMemberPayload:
    async def payload(group: GroupRow) -> GroupMemberPayload:
        await _access_changed(info, str(input.user_id))
        return GroupMemberPayload(assignment_group=AssignmentGroup.from_row(group))

    return await run_mutation(
        info,
        refused=refused(GroupMemberPayload),
        call=lambda actor: admin.remove_group_member(
            actor=actor, group_code=input.group_code, user_id=str(input.user_id)
        ),
        done=payload,
    )


async def _access_changed(info: Info, user_id: str) -> None:
    """After the commit: the user's open sockets re-authorize (casegraph/events/access.py)."""
    live = info.context.live
    if live is not None:
        await live.access_changed(user_id)


async def create_case_type(info: Info, input: CreateCaseTypeInput) -> CaseTypePayload:
    return await run_mutation(
        info,
        refused=refused(CaseTypePayload),
        call=lambda actor: admin.create_case_type(
            actor=actor,
            code=input.code,
            name=input.name,
            workflow=input.workflow,
            assignment_group_code=input.assignment_group_code,
            auto_assign=input.auto_assign,
            description=input.description,
            now=info.context.clock(),
            skills=input.skills or [],
        ),
        done=lambda case_type: CaseTypePayload(case_type=CaseType.from_row(case_type)),
    )


async def update_case_type(info: Info, input: UpdateCaseTypeInput) -> CaseTypePayload:
    return await run_mutation(
        info,
        refused=refused(CaseTypePayload),
        call=lambda actor: admin.update_case_type(
            actor=actor,
            code=input.code,
            name=input.name,
            description=input.description,
            auto_assign=input.auto_assign,
            skills=input.skills,
            active=input.active,
        ),
        done=lambda case_type: CaseTypePayload(case_type=CaseType.from_row(case_type)),
    )


async def set_availability(info: Info, input: SetAvailabilityInput) -> UserPayload:
    return await run_mutation(
        info,
        refused=refused(UserPayload),
        call=lambda actor: agents.set_availability(
            actor=actor,
            user_id=None if input.user_id is None else str(input.user_id),
            available=input.available,
        ),
        done=lambda user: UserPayload(user=User.from_row(user)),
    )


async def set_agent_skills(info: Info, input: SetAgentSkillsInput) -> UserPayload:
    return await run_mutation(
        info,
        refused=refused(UserPayload),
        call=lambda actor: agents.set_skills(actor=actor, user_id=str(input.user_id), skills=input.skills),
        done=lambda user: UserPayload(user=User.from_row(user)),
    )
