"""Users and assignment groups."""

from __future__ import annotations

import strawberry

from casegraph.domain.enums import Role as DomainRole
from models import AssignmentGroup as GroupRow
from models import GroupMembership as MembershipRow
from models import User as UserRow
from resolvers import entities
from resolvers.loaders import GroupById, MembersByGroup, UserById
from schema.context import Info
from schema.enums import Role


@strawberry.federation.type(keys=["id"], description="A person or service account; `id` is the token's `sub`.")
class User:
    id: strawberry.ID
    name: str | None
    roles: list[Role]
    agency: str | None
    _email: strawberry.Private[str | None]
    _available: strawberry.Private[bool] = True
    _skills: strawberry.Private[tuple[str, ...]] = ()
    _phone: strawberry.Private[str | None] = None
    _locale: strawberry.Private[str | None] = None

    def _shown_to(self, info: Info) -> bool:
        viewer = info.context.actor
        return viewer is not None and (viewer.user_id == self.id or info.context.sees_internal)

    @strawberry.field(description="Shown to staff and to the user themselves only.")
    def email(self, info: Info) -> str | None:
        return self._email if self._shown_to(info) else None

    @strawberry.field(description="Available for automatic routing; staff and the user only.")
    def available(self, info: Info) -> bool | None:
        return self._available if self._shown_to(info) else None

    @strawberry.field(description="Skills routing matches against case types; staff and the user only.")
    def skills(self, info: Info) -> list[str] | None:
        return list(self._skills) if self._shown_to(info) else None

    @strawberry.field(
        description="The assignment groups the user belongs to, as of this request; the user themselves only "
        "(null for anyone else: managers see a group's members on AssignmentGroup.members)."
    )
    async def groups(self, info: Info) -> list[AssignmentGroup] | None:
        viewer = info.context.actor
        if viewer is None or viewer.user_id != self.id:
            return None
        # The actor's memberships are read for this request (or re-read for each socket operation).
        rows = await GroupRow.filter(id__in=sorted(viewer.group_ids)).order_by("code")
        return [AssignmentGroup.from_row(row) for row in rows]

    @strawberry.field(description="The phone number staff took down (intake by staff); staff and the user only.")
    def phone(self, info: Info) -> str | None:
        return self._phone if self._shown_to(info) else None

    @strawberry.field(
        description="The language mails to the user are written in (a catalogue name); staff and the user only."
    )
    def preferred_language(self, info: Info) -> str | None:
        return self._locale if self._shown_to(info) else None

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> User | None:
        row = await entities.visible_user(info, str(id))
        return cls.from_row(row) if row is not None else None

    @classmethod
    def from_row(cls, row: UserRow) -> User:
        roles = []
        for raw in row.roles or []:
            try:
                roles.append(DomainRole(raw))
            except ValueError:
                continue
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            roles=roles,
            agency=row.agency,
            _email=row.email,
            _available=row.available,
            _skills=tuple(row.skills or ()),
            _phone=row.phone,
            _locale=row.locale,
        )


async def _user(info: Info, user_id: str | None) -> User | None:
    if user_id is None:
        return None
    row = await info.context.loaders[UserById].load(user_id)
    return User.from_row(row) if row is not None else None


@strawberry.type(description="A member of an assignment group.")
class GroupMember:
    is_manager: bool
    _user_id: strawberry.Private[str]

    @strawberry.field
    async def user(self, info: Info) -> User:
        user = await _user(info, self._user_id)
        assert user is not None
        return user


@strawberry.federation.type(keys=["code"], description="A team that handles the cases of its case types.")
class AssignmentGroup:
    id: strawberry.ID
    code: str
    name: str
    _pk: strawberry.Private[int]

    @strawberry.field(description="Members and managers; staff only (empty for others).")
    async def members(self, info: Info) -> list[GroupMember]:
        if not info.context.sees_internal:
            return []
        rows: list[MembershipRow] = await info.context.loaders[MembersByGroup].load(self._pk)
        return [GroupMember(is_manager=row.is_manager, _user_id=row.user_id) for row in rows]

    @classmethod
    async def resolve_reference(cls, info: Info, code: str) -> AssignmentGroup | None:
        row = await entities.group_by_code(info, code)
        return cls.from_row(row) if row is not None else None

    @classmethod
    def from_row(cls, row: GroupRow) -> AssignmentGroup:
        return cls(id=strawberry.ID(str(row.id)), code=row.code, name=row.name, _pk=row.id)


async def _group(info: Info, group_id: int | None) -> AssignmentGroup | None:
    if group_id is None:
        return None
    row = await info.context.loaders[GroupById].load(group_id)
    return AssignmentGroup.from_row(row) if row is not None else None
