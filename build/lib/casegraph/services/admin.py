"""Administration: assignment groups, memberships, case types. ADMIN only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from casegraph.domain.enums import Role, Workflow
from casegraph.domain.errors import permission_denied, validation_failed
from casegraph.domain.relations import Actor
from casegraph.domain.validation import clean_code, clean_text, clean_title, lookup_key
from casegraph.services.agents import clean_skills
from casegraph.services.column_limits import max_length
from casegraph.services.users import ensure_user
from models import AssignmentGroup, CaseType, GroupMembership, User


def require_admin(actor: Actor) -> None:
    if not actor.has(Role.ADMIN):
        raise permission_denied("Only an administrator may do that.")


async def create_assignment_group(*, actor: Actor, code: str, name: str, now: datetime) -> AssignmentGroup:
    require_admin(actor)
    code = clean_code("code", code)
    cleaned_name = clean_title(name, required=True, field="name")
    try:
        return await AssignmentGroup.create(code=code, name=cleaned_name, created_at=now)
    except IntegrityError:
        raise validation_failed("code", "An assignment group with that code exists already.") from None


async def add_group_member(
    *, actor: Actor, group_code: str, user_id: str, is_manager: bool, now: datetime
) -> GroupMembership:
    """Add (or re-flag) a member; a user id not seen yet is provisioned."""
    require_admin(actor)
    group = await _group(group_code)
    user = clean_text("userId", user_id, required=True, limit=255)
    assert user is not None
    async with in_transaction():
        await ensure_user(user_id=user, now=now)
        membership, created = await GroupMembership.get_or_create(
            group_id=group.id, user_id=user, defaults={"is_manager": is_manager, "created_at": now}
        )
        if not created and membership.is_manager != is_manager:
            membership.is_manager = is_manager
            await membership.save(update_fields=["is_manager"])
    return membership


async def remove_group_member(*, actor: Actor, group_code: str, user_id: str) -> AssignmentGroup:
    require_admin(actor)
    group = await _group(group_code)
    member = lookup_key(user_id, max_length(User, "id"))
    removed = await GroupMembership.filter(group_id=group.id, user_id=member).delete() if member is not None else 0
    if not removed:
        raise validation_failed("userId", "That user is not a member of the group.")
    return group


async def create_case_type(
    *,
    actor: Actor,
    code: str,
    name: str,
    workflow: Workflow,
    assignment_group_code: str,
    auto_assign: bool,
    description: str | None,
    now: datetime,
    skills: Sequence[str] = (),
) -> CaseType:
    require_admin(actor)
    code = clean_code("code", code)
    cleaned_name = clean_title(name, required=True, field="name")
    cleaned_description = clean_text("description", description, required=False)
    group = await _group(assignment_group_code, field="assignmentGroupCode")
    try:
        return await CaseType.create(
            code=code,
            name=cleaned_name,
            description=cleaned_description,
            workflow=workflow,
            assignment_group_id=group.id,
            auto_assign=auto_assign,
            skills=clean_skills("skills", skills),
            created_at=now,
        )
    except IntegrityError:
        raise validation_failed("code", "A case type with that code exists already.") from None


async def update_case_type(
    *,
    actor: Actor,
    code: str,
    name: str | None = None,
    description: str | None = None,
    auto_assign: bool | None = None,
    skills: Sequence[str] | None = None,
    active: bool | None = None,
) -> CaseType:
    """Change a case type's presentation and routing; its workflow and group stay as they are."""
    require_admin(actor)
    case_type = await CaseType.get_or_none(code=clean_text("code", code, required=True, limit=64))
    if case_type is None:
        raise validation_failed("code", "No case type has that code.")
    if name is not None:
        case_type.name = clean_title(name, required=True, field="name") or case_type.name
    if description is not None:
        case_type.description = clean_text("description", description, required=False)  # type: ignore[assignment]
    if auto_assign is not None:
        case_type.auto_assign = auto_assign
    if skills is not None:
        case_type.skills = clean_skills("skills", skills)
    if active is not None:
        case_type.active = active
    await case_type.save()
    return case_type


async def _group(code: str, *, field: str = "groupCode") -> AssignmentGroup:
    cleaned = clean_text(field, code, required=True, limit=64)
    group = await AssignmentGroup.get_or_none(code=cleaned)
    if group is None:
        raise validation_failed(field, "No assignment group has that code.")
    return group
