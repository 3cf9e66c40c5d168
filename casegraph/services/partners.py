"""Partner agencies an administrator configures: who they are, where their API is, the secret
both sides sign service tokens with, and the case type their referrals become here."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from casegraph.domain.enums import Role
from casegraph.domain.errors import not_found, permission_denied, validation_failed
from casegraph.domain.relations import Actor
from casegraph.domain.validation import clean_title
from casegraph.services.admin import require_admin
from casegraph.services.webhooks import clean_url
from casegraph.settings import AGENCY_CODE
from models import CaseType, PartnerAgency

MIN_SECRET: Final = 32
MAX_SECRET: Final = 128


@dataclass(frozen=True)
class CreatedPartner:
    partner: PartnerAgency
    shared_secret: str | None  # generated here: shown once, for the partner's administrator


def clean_agency_code(value: str) -> str:
    code = value.strip().upper()
    if not AGENCY_CODE.fullmatch(code):
        raise validation_failed("code", "2-32 letters, digits, '_' or '-', starting with a letter.")
    return code


def _clean_secret(value: str) -> str:
    secret = value.strip()
    if not MIN_SECRET <= len(secret) <= MAX_SECRET or not secret.isprintable():
        raise validation_failed("sharedSecret", f"{MIN_SECRET}-{MAX_SECRET} printable characters.")
    return secret


async def _case_type_id(code: str | None) -> int | None:
    if code is None:
        return None
    case_type = await CaseType.filter(code=code.strip().upper()).first()
    if case_type is None:
        raise validation_failed("receiveCaseTypeCode", "No case type has this code.")
    return int(case_type.id)


async def create_partner(
    *,
    actor: Actor,
    code: str,
    name: str,
    graphql_url: str,
    shared_secret: str | None,
    receive_case_type_code: str | None,
    allow_private: bool,
    now: datetime,
) -> CreatedPartner:
    require_admin(actor)
    cleaned_code = clean_agency_code(code)
    cleaned_name = clean_title(name, required=True, field="name")
    url = clean_url(graphql_url, allow_private=allow_private)
    secret = _clean_secret(shared_secret) if shared_secret is not None else secrets.token_urlsafe(48)
    case_type_id = await _case_type_id(receive_case_type_code)
    if await PartnerAgency.exists(code=cleaned_code):
        raise validation_failed("code", "A partner agency with this code exists.")
    partner = await PartnerAgency.create(
        id=uuid.uuid4(),
        code=cleaned_code,
        name=cleaned_name,
        graphql_url=url,
        shared_secret=secret,
        receive_case_type_id=case_type_id,
        active=True,
        created_at=now,
        updated_at=now,
    )
    return CreatedPartner(partner, None if shared_secret is not None else secret)


async def partner_by_code(code: str, *, active_only: bool = False) -> PartnerAgency:
    cleaned = code.strip().upper()
    partner = await PartnerAgency.filter(code=cleaned).first() if AGENCY_CODE.fullmatch(cleaned) else None
    if partner is None or (active_only and not partner.active):
        raise not_found("Partner agency")
    return partner


async def update_partner(
    *,
    actor: Actor,
    code: str,
    name: str | None,
    graphql_url: str | None,
    shared_secret: str | None,
    receive_case_type_code: str | None,
    active: bool | None,
    allow_private: bool,
    now: datetime,
) -> PartnerAgency:
    require_admin(actor)
    partner = await partner_by_code(code)
    if name is not None:
        partner.name = clean_title(name, required=True, field="name") or partner.name
    if graphql_url is not None:
        partner.graphql_url = clean_url(graphql_url, allow_private=allow_private)
    if shared_secret is not None:
        partner.shared_secret = _clean_secret(shared_secret)
    if receive_case_type_code is not None:
        partner.receive_case_type_id = await _case_type_id(receive_case_type_code)
    if active is not None:
        partner.active = active
    partner.updated_at = now
    await partner.save()
    return partner


async def referral_partners(*, actor: Actor) -> list[PartnerAgency]:
    """Active partners, for agents choosing where to refer a case (no URLs or secrets leave here)."""
    if not (actor.is_staff or actor.has(Role.ADMIN)):
        raise permission_denied("Only staff refer cases.")
    return await PartnerAgency.filter(active=True).order_by("code")


async def list_partners(*, actor: Actor) -> list[PartnerAgency]:
    require_admin(actor)
    return await PartnerAgency.all().order_by("code")
