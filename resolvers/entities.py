"""Federation entity lookups (``_entities``): the rows a viewer may have by an entity's key.

A gateway sends many representations in one ``_entities`` call, so every lookup goes through a
per-request DataLoader (one statement per entity type, whatever the count), and through the same
visibility as the root queries: a representation the viewer may not see resolves to null, as
an unknown key does — the gateway cannot tell the two apart, just as ``case(id:)`` cannot.
"""

from __future__ import annotations

from collections.abc import Sequence

from casegraph.domain.errors import validation_failed
from casegraph.domain.validation import uuid_key
from casegraph.services.records import CaseRecord
from models import AssignmentGroup, CaseType, User
from resolvers.feature_loaders import CaseTypeByCode, GroupByCode
from resolvers.loaders import UserById, VisibleCaseById
from schema.context import Info

# Each entity type and its key field, as the types declare them with ``@key`` (a test checks the SDL).
ENTITY_KEYS: dict[str, str] = {"Case": "id", "User": "id", "CaseType": "code", "AssignmentGroup": "code"}


def check_representations(representations: Sequence[object]) -> None:
    """Refuse (VALIDATION_FAILED) representations that are not ``{__typename, <key>}`` of an entity.

    Strawberry would otherwise fail on them as unexpected errors; gateways send exactly these
    two fields for our keys, so anything else is a malformed request.
    """
    for index, representation in enumerate(representations):
        field = f"representations.{index}"
        if not isinstance(representation, dict):
            raise validation_failed(field, "A representation is an object with __typename and the key field.")
        type_name = representation.get("__typename")
        key = ENTITY_KEYS.get(type_name) if isinstance(type_name, str) else None
        if key is None:
            raise validation_failed(field, f"__typename must name an entity: {', '.join(sorted(ENTITY_KEYS))}.")
        if set(representation) != {"__typename", key} or not isinstance(representation[key], str):
            raise validation_failed(field, f"A {type_name} representation holds __typename and {key} (a string) only.")


async def visible_case(info: Info, case_id: str) -> CaseRecord | None:
    """The case by id if the viewer may see it (deleted cases never: gateways join live data)."""
    if uuid_key(case_id) is None:
        return None
    return await info.context.loaders[VisibleCaseById].load(case_id)


async def visible_user(info: Info, user_id: str) -> User | None:
    """Users are people: staff may look anyone up, everyone else (constituents, partners) only themselves."""
    viewer = info.context.actor
    if viewer is None or not (viewer.user_id == user_id or info.context.sees_internal):
        return None
    return await info.context.loaders[UserById].load(user_id)


async def case_type_by_code(info: Info, code: str) -> CaseType | None:
    """Case types are reference data every authenticated viewer reads (``caseTypes``)."""
    if info.context.actor is None:
        return None
    return await info.context.loaders[CaseTypeByCode].load(code)


async def group_by_code(info: Info, code: str) -> AssignmentGroup | None:
    """Group codes and names are public like ``assignmentGroups``; members stay staff-only on the type."""
    if info.context.actor is None:
        return None
    return await info.context.loaders[GroupByCode].load(code)
