"""Filing a case: by a constituent for themselves, or by staff on a constituent's behalf."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from casegraph.database.counters import CASE_NUMBER, CASE_NUMBER_START, next_value
from casegraph.domain.enums import CaseAction, CaseEventType, CaseStage, CaseStatus, Channel, Role, Workflow
from casegraph.domain.errors import permission_denied, validation_failed
from casegraph.domain.intake import IntakeValues
from casegraph.domain.priority import derive_priority
from casegraph.domain.relations import Actor
from casegraph.domain.validation import clean_email, clean_level, clean_location, clean_phone, clean_text, clean_title
from casegraph.services.action_inputs import usable_case_type
from casegraph.services.case_changes import ActionResult
from casegraph.services.event_log import append_event
from casegraph.services.extensions import run_change_hooks
from casegraph.services.intake import Intake, resolve_intake
from casegraph.services.publisher import Publisher
from casegraph.services.records import CASE_COLUMNS, CaseRecord
from casegraph.services.routing import route_if_automatic
from models import Case, CaseType, User

DEFAULT_LEVEL = 3


@dataclass(frozen=True)
class NewCase:
    case_type_code: str | None
    title: str | None
    description: str | None = None
    impact: int | None = None
    urgency: int | None = None
    channel: Channel | None = None
    requester_id: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    submit: bool = True
    service_definition_code: str | None = None
    template_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    # The agency a case received from a partner came from (services/referrals_inbound.py).
    referred_agency: str | None = None


async def create_case(
    *,
    actor: Actor,
    new: NewCase,
    now: datetime,
    publisher: Publisher,
    on_success: Callable[[ActionResult], Awaitable[None]] | None = None,
    on_referral: bool = False,
    via: Channel | None = None,
) -> ActionResult:
    """Create a case at version 1 with one CASE_CREATED event: a DRAFT, or submitted as NEW.

    ``on_referral``: a partner agency's service account files the case it referred to us (the
    caller checked the partner); it is the requester and the type is the one configured for it.
    ``via``: the channel the server itself saw the case arrive on (e-mail intake); a channel in
    ``new`` counts only when staff file on someone's behalf.
    """
    if not (actor.has(Role.CONSTITUENT) or actor.is_staff or on_referral):
        raise permission_denied("Only constituents and agents may file cases.")
    requester_id = _requester(actor, new.requester_id)
    new, intake = await _filed_under(actor, new)
    title = clean_title(new.title, required=new.submit)
    description = clean_text("description", new.description, required=False)
    impact = clean_level("impact", new.impact) or DEFAULT_LEVEL
    urgency = clean_level("urgency", new.urgency) or DEFAULT_LEVEL
    contact_email = clean_email("contactEmail", new.contact_email)
    contact_phone = clean_phone("contactPhone", new.contact_phone)
    location = clean_location(new.latitude, new.longitude)
    case_type: CaseType | None = None
    if new.case_type_code is not None or new.submit:
        case_type = await usable_case_type(new.case_type_code, actor, any_group=on_referral)
    if not on_referral:
        await _require_constituent(actor, requester_id)
    if new.submit and case_type is not None:
        await intake.require_fields(
            case_type_id=case_type.id,
            values=IntakeValues(description, contact_email, contact_phone, has_location=location is not None),
        )
    stage, status = (CaseStage.INTAKE, CaseStatus.NEW) if new.submit else (CaseStage.DRAFT, CaseStatus.DRAFT)
    channel = _channel(actor, new.channel, via=via, on_referral=on_referral)
    async with in_transaction():
        number = await next_value(CASE_NUMBER, start=CASE_NUMBER_START)
        case = await Case.create(
            id=uuid.uuid4(),
            number=f"CS{number:07d}",
            title=title,
            description=description,
            stage=stage,
            status=status,
            workflow=case_type.workflow if case_type else Workflow.PUBLIC_SERVICE,
            case_type_id=case_type.id if case_type else None,
            assignment_group_id=case_type.assignment_group_id if case_type else None,
            impact=impact,
            urgency=urgency,
            priority=derive_priority(impact, urgency),
            channel=channel,
            requester_id=requester_id,
            author_id=actor.user_id,
            contact_email=contact_email,
            contact_phone=contact_phone,
            service_definition_code=intake.service_definition_code,
            latitude=location[0] if location else None,
            longitude=location[1] if location else None,
            referred_agency=new.referred_agency if on_referral else None,
            version=1,
            submitted_at=now if new.submit else None,
            created_at=now,
            updated_at=now,
        )
        record = CaseRecord.from_row({name: getattr(case, name) for name in CASE_COLUMNS})
        await intake.remember(case_id=record.id, now=now)
        event = await append_event(
            case_id=record.id,
            actor_id=actor.user_id,
            event_type=CaseEventType.CASE_CREATED,
            action=CaseAction.CREATE,
            before=None,
            after=record.state,
            version=1,
            summary={"submitted": new.submit, "channel": channel.value, **intake.summary()},
            now=now,
        )
        await run_change_hooks(record, record, event)
        result = ActionResult(record, event)
        if on_success is not None:
            await on_success(result)
    await publisher.published([event])
    if new.submit:
        routed = await route_if_automatic(case=record, now=now, publisher=publisher)
        result = ActionResult(routed, event)
    return result


async def _filed_under(actor: Actor, new: NewCase) -> tuple[NewCase, Intake]:
    """Fill a new case from its service definition and template; explicit inputs win."""
    intake = await resolve_intake(
        actor=actor,
        service_definition_code=new.service_definition_code,
        template_code=new.template_code,
        case_type_code=new.case_type_code,
    )
    if intake.case_type_code is None:
        return new, intake
    template = intake.template
    defaults = {
        name: getattr(template, name)
        for name in ("title", "description", "impact", "urgency")
        if template is not None and getattr(new, name) is None
    }
    return dataclasses.replace(new, case_type_code=intake.case_type_code, **defaults), intake


def _requester(actor: Actor, requester_id: str | None) -> str:
    wanted = clean_text("requesterId", requester_id, required=False, limit=255)
    if actor.is_staff:
        if wanted is None:
            raise validation_failed("requesterId", "Staff filing a case must name the requester.")
        return wanted
    if wanted is not None and wanted != actor.user_id:
        raise validation_failed("requesterId", "A constituent always files for themselves.")
    return actor.user_id


async def _require_constituent(actor: Actor, requester_id: str) -> None:
    """Separation of duties: only a member of the public is a requester (a partner agency's
    service account is one too, on the referral path). Staff never file cases for themselves."""
    if requester_id == actor.user_id:
        if not actor.has(Role.CONSTITUENT):
            raise validation_failed("requesterId", "The requester of a case must be a constituent.")
        return
    user = await User.get_or_none(id=requester_id)
    if user is None:
        raise validation_failed("requesterId", "The requester is not a known user.")
    if Role.CONSTITUENT.value not in (user.roles or []):
        raise validation_failed("requesterId", "The requester of a case must be a constituent.")


def _channel(actor: Actor, requested: Channel | None, *, via: Channel | None, on_referral: bool) -> Channel:
    """How the case reached us. A constituent's own word is not taken for it: a portal filing is
    PORTAL whatever the client sends; only the server's intake paths know better."""
    if on_referral:
        return Channel.PARTNER
    if via is not None:
        return via
    if actor.is_staff:
        return requested or Channel.PHONE
    return Channel.PORTAL
