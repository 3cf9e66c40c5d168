"""Service definitions, case templates and required fields (issue 4, *Case types, service
definitions, templates*).

A service definition is what the public is offered ("Report a pothole"); it files a case of its
case type, pre-filled by its template if it has one. A template pre-fills title, description
skeleton, impact and urgency, and names fields the case must have when submitted, on top of the
fields its case type requires. Administration is ADMIN only; listings serve any signed-in user.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Final

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet

from casegraph.domain.enums import CaseAction, Role
from casegraph.domain.errors import validation_failed
from casegraph.domain.intake import CaseField, IntakeValues, normalize, require_complete
from casegraph.domain.relations import Actor
from casegraph.domain.validation import clean_code, clean_level, clean_text, clean_title, lookup_key
from casegraph.services.admin import require_admin
from casegraph.services.column_limits import max_length
from casegraph.services.records import CaseRecord
from models import CaseIntake, CaseTemplate, CaseType, CaseTypeRequirement, ServiceDefinition

if TYPE_CHECKING:
    from casegraph.services.extensions import Transition


# --- administration -----------------------------------------------------------------------


class Keep(Enum):
    """A field an update leaves as it is (not given); None, by contrast, clears an optional one."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP


@dataclass(frozen=True)
class TemplateFields:
    title: str | None | Keep = KEEP
    description: str | None | Keep = KEEP
    impact: int | None | Keep = KEEP
    urgency: int | None | Keep = KEEP
    required_fields: Sequence[CaseField] | None | Keep = KEEP


@dataclass(frozen=True)
class TemplateChanges(TemplateFields):
    """``updateCaseTemplate``: the fields given change; the case type stays."""

    name: str | None | Keep = KEEP
    active: bool | None | Keep = KEEP


@dataclass(frozen=True)
class ServiceDefinitionChanges:
    """``updateServiceDefinition``: the fields given change."""

    name: str | None | Keep = KEEP
    description: str | None | Keep = KEEP
    case_type_code: str | None | Keep = KEEP
    template_code: str | None | Keep = KEEP
    public: bool | None | Keep = KEEP
    active: bool | None | Keep = KEEP


async def create_template(
    *,
    actor: Actor,
    code: str,
    name: str,
    case_type_code: str,
    now: datetime,
    title: str | None = None,
    description: str | None = None,
    impact: int | None = None,
    urgency: int | None = None,
    required_fields: Sequence[CaseField] = (),
    active: bool = True,
) -> CaseTemplate:
    require_admin(actor)
    values = _template_values(
        TemplateFields(
            title=title, description=description, impact=impact, urgency=urgency, required_fields=required_fields
        )
    )
    case_type = await case_type_by_code(case_type_code)
    try:
        return await CaseTemplate.create(
            code=clean_code("code", code),
            name=clean_title(name, required=True, field="name"),
            case_type_id=case_type.id,
            active=active,
            created_at=now,
            updated_at=now,
            **values,
        )
    except IntegrityError:
        raise validation_failed("code", "A case template with that code exists already.") from None


async def update_template(*, actor: Actor, code: str, changes: TemplateChanges, now: datetime) -> CaseTemplate:
    """Change the given fields (a None clears an optional one). The case type stays."""
    require_admin(actor)
    template = await _template(code, field="code")
    values = _template_values(changes)
    if not isinstance(changes.name, Keep):
        values["name"] = clean_title(changes.name, required=True, field="name")
    if changes.active is not None and not isinstance(changes.active, Keep):
        values["active"] = bool(changes.active)
    if values:
        await CaseTemplate.filter(id=template.id).update(**values, updated_at=now)
    return await CaseTemplate.get(id=template.id)


async def create_service_definition(
    *,
    actor: Actor,
    code: str,
    name: str,
    case_type_code: str,
    now: datetime,
    description: str | None = None,
    template_code: str | None = None,
    public: bool = True,
    active: bool = True,
) -> ServiceDefinition:
    require_admin(actor)
    cleaned_code = clean_code("code", code)
    cleaned_name = clean_title(name, required=True, field="name")
    cleaned_description = clean_text("description", description, required=False)
    case_type = await case_type_by_code(case_type_code)
    template = await _template_of(case_type, template_code)
    try:
        return await ServiceDefinition.create(
            code=cleaned_code,
            name=cleaned_name,
            description=cleaned_description,
            case_type_id=case_type.id,
            template_id=template.id if template else None,
            public=public,
            active=active,
            created_at=now,
            updated_at=now,
        )
    except IntegrityError:
        raise validation_failed("code", "A service definition with that code exists already.") from None


async def update_service_definition(
    *, actor: Actor, code: str, changes: ServiceDefinitionChanges, now: datetime
) -> ServiceDefinition:
    """Change the given fields; ``templateCode: null`` removes the template."""
    require_admin(actor)
    definition = await _service_definition(code, field="code")
    values: dict[str, Any] = {}
    if not isinstance(changes.name, Keep):
        values["name"] = clean_title(changes.name, required=True, field="name")
    if not isinstance(changes.description, Keep):
        values["description"] = clean_text("description", changes.description, required=False)
    for flag, given in (("public", changes.public), ("active", changes.active)):
        if given is not None and not isinstance(given, Keep):
            values[flag] = bool(given)
    case_type_id = definition.case_type_id
    if changes.case_type_code is not None and not isinstance(changes.case_type_code, Keep):
        case_type_id = (await case_type_by_code(changes.case_type_code)).id
        values["case_type_id"] = case_type_id
    if not isinstance(changes.template_code, Keep):
        template = await _template_of(await CaseType.get(id=case_type_id), changes.template_code)
        values["template_id"] = template.id if template else None
    elif definition.template_id is not None and case_type_id != definition.case_type_id:
        raise validation_failed("templateCode", "The template belongs to another case type; give a new one or null.")
    if values:
        await ServiceDefinition.filter(id=definition.id).update(**values, updated_at=now)
    return await ServiceDefinition.get(id=definition.id)


async def set_required_fields(
    *, actor: Actor, case_type_code: str, required_fields: Sequence[CaseField], now: datetime
) -> CaseType:
    """Replace the fields every case of the type must have when submitted (empty: none)."""
    require_admin(actor)
    case_type = await case_type_by_code(case_type_code)
    fields = [f.value for f in normalize(required_fields)]
    updated = await CaseTypeRequirement.filter(case_type_id=case_type.id).update(required_fields=fields, updated_at=now)
    if not updated:
        try:
            await CaseTypeRequirement.create(case_type_id=case_type.id, required_fields=fields, updated_at=now)
        except IntegrityError:  # a concurrent first setting: the later write wins, as with updates
            await CaseTypeRequirement.filter(case_type_id=case_type.id).update(required_fields=fields, updated_at=now)
    return case_type


# --- listings -----------------------------------------------------------------------------


def _service_definitions(actor: Actor, *, include_inactive: bool) -> QuerySet[ServiceDefinition]:
    query = ServiceDefinition.all()
    if not (include_inactive and actor.has(Role.ADMIN)):
        query = query.filter(active=True, case_type__active=True)
    if not _sees_internal_services(actor):
        query = query.filter(public=True)
    return query


async def list_service_definitions(*, actor: Actor, include_inactive: bool = False) -> list[ServiceDefinition]:
    """Active services: constituents see the public ones, staff internal ones too; ADMIN may
    ask for inactive ones as well."""
    return await _service_definitions(actor, include_inactive=include_inactive).order_by("name", "code")


async def find_service_definition(*, actor: Actor, code: str) -> ServiceDefinition | None:
    key = lookup_key(code.strip(), max_length(ServiceDefinition, "code"))
    if key is None:
        return None
    return await _service_definitions(actor, include_inactive=True).get_or_none(code=key)


async def list_templates(
    *, actor: Actor, case_type_code: str | None = None, include_inactive: bool = False
) -> list[CaseTemplate]:
    query = CaseTemplate.all()
    if not (include_inactive and actor.has(Role.ADMIN)):
        query = query.filter(active=True)
    if case_type_code is not None:
        key = lookup_key(case_type_code.strip(), max_length(CaseType, "code"))
        if key is None:
            return []
        query = query.filter(case_type__code=key)
    return await query.order_by("name", "code")


async def required_fields_of_types(case_type_ids: Iterable[int]) -> dict[int, tuple[CaseField, ...]]:
    rows = await CaseTypeRequirement.filter(case_type_id__in=sorted(set(case_type_ids))).values(
        "case_type_id", "required_fields"
    )
    return {int(row["case_type_id"]): normalize(row["required_fields"] or []) for row in rows}


async def required_fields_of(case_type_id: int, template: CaseTemplate | None) -> tuple[CaseField, ...]:
    of_type = (await required_fields_of_types([case_type_id])).get(case_type_id, ())
    return normalize([*of_type, *(template.required_fields if template else [])])


# --- filing a case ------------------------------------------------------------------------


@dataclass(frozen=True)
class Intake:
    """How a new case is being filed: under which service definition, from which template."""

    service_definition_code: str | None = None
    template: CaseTemplate | None = None
    # The case type the service definition or template files under (None: neither was given).
    case_type_code: str | None = None

    def summary(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if self.service_definition_code:
            found["serviceDefinitionCode"] = self.service_definition_code
        if self.template is not None:
            found["templateCode"] = self.template.code
        return found

    async def require_fields(self, *, case_type_id: int, values: IntakeValues) -> None:
        """At submission: every field the case type and the template require (VALIDATION_FAILED)."""
        skeleton = self.template.description if self.template else None
        required = await required_fields_of(case_type_id, self.template)
        require_complete(required, dataclasses.replace(values, description_skeleton=skeleton))

    async def remember(self, *, case_id: str, now: datetime) -> None:
        """Inside the creating transaction: the template's requirements apply to the draft later."""
        if self.template is not None:
            await CaseIntake.create(case_id=case_id, template_id=self.template.id, created_at=now)


async def resolve_intake(
    *, actor: Actor, service_definition_code: str | None, template_code: str | None, case_type_code: str | None
) -> Intake:
    """Where a new case is filed: its service definition and template, and the case type they give.

    The case type comes from the service definition (or the template); a ``caseTypeCode`` given
    as well must agree. Constituents may file only under public services. Filling the case from
    the template is ``case_creation``'s (it owns ``NewCase``; this module does not import it).
    """
    if service_definition_code is None and template_code is None:
        return Intake()
    definition: ServiceDefinition | None = None
    if service_definition_code is not None:
        definition = await _usable_service_definition(actor, service_definition_code)
    template: CaseTemplate | None = None
    if template_code is not None:
        template = await _template(template_code, field="templateCode", active_only=True)
        if definition is not None and template.case_type_id != definition.case_type_id:
            raise validation_failed("templateCode", "The template is for another case type than the service.")
    elif definition is not None and definition.template_id is not None:
        template = await CaseTemplate.get_or_none(id=definition.template_id, active=True)
    case_type_id = definition.case_type_id if definition is not None else template.case_type_id if template else None
    assert case_type_id is not None  # one of the two codes was given and resolved
    case_type = await CaseType.get(id=case_type_id)
    if case_type_code is not None and case_type_code.strip() != case_type.code:
        source = "serviceDefinitionCode" if definition else "templateCode"
        raise validation_failed("caseTypeCode", f"caseTypeCode does not match the case type of {source}.")
    return Intake(
        service_definition_code=definition.code if definition else None,
        template=template,
        case_type_code=case_type.code,
    )


async def check_required_fields_at_submit(transition: Transition) -> None:
    """TRANSITION_CHECK: a draft is submitted only with the fields its type and template require."""
    case = transition.case
    if transition.action is not CaseAction.SUBMIT or case.case_type_id is None:
        return
    intake = await CaseIntake.get_or_none(case_id=case.id)
    template = await CaseTemplate.get_or_none(id=intake.template_id) if intake else None
    await Intake(template=template).require_fields(case_type_id=case.case_type_id, values=values_of(case))


def values_of(case: CaseRecord) -> IntakeValues:
    return IntakeValues(
        description=case.description,
        contact_email=case.contact_email,
        contact_phone=case.contact_phone,
        has_location=case.latitude is not None and case.longitude is not None,
    )


# --- helpers ------------------------------------------------------------------------------


def _sees_internal_services(actor: Actor) -> bool:
    return actor.is_staff or actor.has(Role.ADMIN)


def _template_values(given: TemplateFields) -> dict[str, Any]:
    """Columns for the template fields given, validated."""
    values: dict[str, Any] = {}
    if not isinstance(given.title, Keep):
        values["title"] = clean_title(given.title, required=False)
    if not isinstance(given.description, Keep):
        values["description"] = clean_text("description", given.description, required=False)
    for name, level in (("impact", given.impact), ("urgency", given.urgency)):
        if not isinstance(level, Keep):
            values[name] = clean_level(name, level)
    if not isinstance(given.required_fields, Keep):
        values["required_fields"] = [f.value for f in normalize(given.required_fields or [])]
    return values


async def case_type_by_code(code: Any) -> CaseType:
    cleaned = clean_text("caseTypeCode", code, required=True, limit=64)
    case_type = await CaseType.get_or_none(code=cleaned)
    if case_type is None:
        raise validation_failed("caseTypeCode", "No case type has that code.")
    return case_type


async def _template(code: Any, *, field: str, active_only: bool = False) -> CaseTemplate:
    cleaned = clean_text(field, code, required=True, limit=64)
    template = await CaseTemplate.get_or_none(code=cleaned)
    if template is None or (active_only and not template.active):
        raise validation_failed(field, f"No {'active ' if active_only else ''}case template has that code.")
    return template


async def _template_of(case_type: CaseType, template_code: Any) -> CaseTemplate | None:
    if template_code is None:
        return None
    template = await _template(template_code, field="templateCode")
    if template.case_type_id != case_type.id:
        raise validation_failed("templateCode", "The template is for another case type.")
    return template


async def _service_definition(code: Any, *, field: str) -> ServiceDefinition:
    cleaned = clean_text(field, code, required=True, limit=64)
    definition = await ServiceDefinition.get_or_none(code=cleaned)
    if definition is None:
        raise validation_failed(field, "No service definition has that code.")
    return definition


async def _usable_service_definition(actor: Actor, code: str) -> ServiceDefinition:
    """An active service the actor may file under; anything else looks like no service at all."""
    cleaned = clean_text("serviceDefinitionCode", code, required=True, limit=64)
    definition = await ServiceDefinition.get_or_none(code=cleaned, active=True, case_type__active=True)
    if definition is None or not (definition.public or _sees_internal_services(actor)):
        raise validation_failed("serviceDefinitionCode", "No available service has that code.")
    return definition
