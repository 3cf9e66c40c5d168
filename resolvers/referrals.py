"""A case's referrals (``Case.referrals``) and one referral with its partner, for payloads."""

from __future__ import annotations

from casegraph.services import referrals
from models import PartnerAgency as PartnerRow
from models import Referral as ReferralRow
from schema.types.referrals import Referral


async def referral_of(row: ReferralRow) -> Referral:
    return Referral.from_row(row, await PartnerRow.get(id=row.partner_id))


async def referrals_of(case_id: str) -> list[Referral]:
    rows = await referrals.referrals_of_case(case_id)
    partners_by_id = {p.id: p for p in await PartnerRow.filter(id__in={r.partner_id for r in rows})} if rows else {}
    return [Referral.from_row(row, partners_by_id[row.partner_id]) for row in rows]
