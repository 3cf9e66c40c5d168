"""Agent availability and skills, which routing reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from casegraph.domain.enums import Role
from casegraph.domain.errors import not_found, permission_denied, validation_failed
from casegraph.domain.relations import Actor
from casegraph.domain.validation import clean_code, lookup_key
from casegraph.services.column_limits import max_length
from models import GroupMembership, User

MAX_SKILLS: Final = 20


def clean_skills(field: str, skills: Sequence[str]) -> list[str]:
    if len(skills) > MAX_SKILLS:
        raise validation_failed(field, f"At most {MAX_SKILLS} skills.")
    return sorted({clean_code(field, skill).lower() for skill in skills})


async def _managed_agent(actor: Actor, user_id: str, *, self_allowed: bool) -> User:
    """The user, if the actor may manage their routing: themselves, a manager of a group of theirs, ADMIN."""
    key = lookup_key(user_id, max_length(User, "id"))
    user = await User.get_or_none(id=key) if key is not None else None
    if user is None:
        raise not_found("User")
    if actor.has(Role.ADMIN) or (self_allowed and actor.user_id == user_id):
        return user
    if (
        actor.has(Role.MANAGER)
        and actor.managed_group_ids
        and await GroupMembership.exists(user_id=user_id, group_id__in=sorted(actor.managed_group_ids))
    ):
        return user
    raise permission_denied("Only the agent, a manager of their group or an administrator may do that.")


async def set_availability(*, actor: Actor, user_id: str | None, available: bool) -> User:
    user = await _managed_agent(actor, user_id or actor.user_id, self_allowed=True)
    user.available = available
    await user.save(update_fields=["available"])
    return user


async def set_skills(*, actor: Actor, user_id: str, skills: Sequence[str]) -> User:
    user = await _managed_agent(actor, user_id, self_allowed=False)
    user.skills = clean_skills("skills", skills)
    await user.save(update_fields=["skills"])
    return user
