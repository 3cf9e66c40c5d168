"""Who an actor is to a case, and who may see it: the only visibility rules (lifecycle.md *Roles*).

Pure: the database layer (``services/visibility.py``) translates ``may_see`` into SQL and must
agree with it; a test checks the two against each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from casegraph.domain.enums import STAFF_ROLES, CaseStatus, Relation, Role


@dataclass(frozen=True)
class Actor:
    """The authenticated user as far as rules care: token roles plus group memberships."""

    user_id: str
    roles: frozenset[Role]
    group_ids: frozenset[int] = frozenset()
    managed_group_ids: frozenset[int] = frozenset()
    agency: str | None = None
    name: str | None = None
    email: str | None = None

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class CaseParties:
    """The parts of a case that relations are computed from."""

    requester_id: str | None
    author_id: str | None
    assigned_to_id: str | None
    group_id: int | None
    inspector_id: str | None = None
    referred_agency: str | None = None
    status: CaseStatus = CaseStatus.NEW
    deleted: bool = False
    task_assignee_ids: frozenset[str] = field(default=frozenset())


# Separation of duties: whoever asked for the case never works on it, judges it or rates that work
# as staff (an agent filing a case for himself could otherwise take, resolve, accept and rate it).
STAFF_RELATIONS = frozenset({Relation.ASSIGNEE, Relation.MANAGER, Relation.GROUP_AGENT, Relation.INSPECTOR})


def relations_of(actor: Actor, case: CaseParties) -> frozenset[Relation]:
    """How ``actor`` stands to the case; a requester holds no staff relation to their own case."""
    found: set[Relation] = set()
    me = actor.user_id
    if case.author_id == me:
        found.add(Relation.AUTHOR)
    if case.requester_id == me:
        found.add(Relation.REQUESTER)
    if actor.is_staff:
        if case.assigned_to_id == me:
            found.add(Relation.ASSIGNEE)
        if case.group_id is not None and case.group_id in actor.group_ids:
            found.add(Relation.GROUP_AGENT)
    if actor.has(Role.MANAGER) and case.group_id is not None and case.group_id in actor.managed_group_ids:
        found.add(Relation.MANAGER)
    if actor.has(Role.FIELD_AGENT) and case.inspector_id == me:
        found.add(Relation.INSPECTOR)
    if actor.has(Role.ADMIN):
        found.add(Relation.ADMIN)
    if actor.has(Role.PARTNER) and actor.agency and case.referred_agency == actor.agency:
        found.add(Relation.PARTNER)
    if Relation.REQUESTER in found:
        found -= STAFF_RELATIONS
    return frozenset(found)


def may_see(actor: Actor, case: CaseParties, *, include_deleted: bool = False) -> bool:
    """The role table: drafts only by their author, deleted cases only by ADMIN on request."""
    me = actor.user_id
    if case.deleted and not (include_deleted and actor.has(Role.ADMIN)):
        return False
    if case.status is CaseStatus.DRAFT:
        return case.author_id == me
    if case.requester_id == me:
        return True
    if actor.has(Role.ADMIN):
        return True
    if actor.is_staff and (
        case.assigned_to_id == me or (case.group_id is not None and case.group_id in actor.group_ids)
    ):
        return True
    if actor.has(Role.FIELD_AGENT) and (case.inspector_id == me or me in case.task_assignee_ids):
        return True
    return bool(actor.has(Role.PARTNER) and actor.agency and case.referred_agency == actor.agency)
