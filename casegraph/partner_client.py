"""Sending referral messages to a partner agency's casegraph: one GraphQL mutation per message,
authenticated with a fresh service token, and what its answer means for the outbox.

A refusal the partner will repeat whatever we do (its validation, a referral it does not know) is
``permanent``: the outbox stops retrying and the referral shows FAILED with the partner's words.
Anything else (connection refused, 5xx, not authenticated yet because its administrator has not
registered us, rate limited) is retried with backoff.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import httpx

from casegraph import partner_tokens
from models import PartnerAgency

RECEIVE: Final = """mutation ReceiveReferral($input: ReceiveReferralInput!) {
  receiveReferral(input: $input) { referral { caseId caseNumber status } errors { code message field } }
}"""
UPDATE: Final = """mutation RecordReferralUpdate($input: ReferralUpdateInput!) {
  recordReferralUpdate(input: $input) { applied errors { code message field } }
}"""
OUTCOME: Final = """mutation RecordReferralOutcome($input: ReferralOutcomeInput!) {
  recordReferralOutcome(input: $input) { applied errors { code message field } }
}"""
OPERATIONS: Final = {
    "referral": ("receiveReferral", RECEIVE),
    "referral_update": ("recordReferralUpdate", UPDATE),
    "referral_outcome": ("recordReferralOutcome", OUTCOME),
}
# Payload refusals that may go away by themselves (a race on the partner's side).
TRANSIENT_CODES: Final = frozenset(
    {"VERSION_CONFLICT", "TRANSITION_NOT_ALLOWED", "RATE_LIMITED", "INTERNAL_ERROR", "UNAUTHENTICATED", "UNAVAILABLE"}
)
ERROR_LIMIT: Final = 500


@dataclass(frozen=True)
class Answer:
    ok: bool
    permanent: bool = False
    status_code: int | None = None
    error: str | None = None
    data: dict[str, Any] | None = None


def _refusal(errors: list[dict[str, Any]]) -> tuple[str, bool]:
    first = errors[0] if errors else {}
    code = str(first.get("code") or (first.get("extensions") or {}).get("code") or "ERROR")
    message = str(first.get("message") or "")
    field = first.get("field")
    text = f"{code}: {message}" + (f" ({field})" if field else "")
    return text[:ERROR_LIMIT], code not in TRANSIENT_CODES


async def send(
    http: httpx.AsyncClient,
    *,
    partner: PartnerAgency,
    kind: str,
    payload: dict[str, Any],
    sender: str,
    now: datetime,
    request_id: str,
) -> Answer:
    field, document = OPERATIONS[kind]
    token = partner_tokens.mint(sender=sender, receiver=partner.code, secret=partner.shared_secret, now=now)
    body = json.dumps({"query": document, "variables": {"input": payload}}, separators=(",", ":")).encode()
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": "application/graphql-response+json, application/json",
        "X-Request-ID": request_id,
    }
    try:
        response = await http.post(partner.graphql_url, content=body, headers=headers)
    except httpx.HTTPError as failure:
        return Answer(False, error=f"{type(failure).__name__}: {failure}"[:ERROR_LIMIT])
    status = response.status_code
    try:
        result = response.json()
    except ValueError:
        return Answer(False, status_code=status, error=f"HTTP {status}: not a GraphQL answer")
    if not isinstance(result, dict):
        return Answer(False, status_code=status, error=f"HTTP {status}: not a GraphQL answer")
    errors = result.get("errors")
    if errors:
        text, permanent = _refusal(errors if isinstance(errors, list) else [])
        # Request errors of the document itself (HTTP 400) are permanent: retrying sends the same.
        return Answer(False, permanent=permanent and status < 500, status_code=status, error=text)
    if status >= 300:
        return Answer(False, status_code=status, error=f"HTTP {status}")
    answer = (result.get("data") or {}).get(field)
    if not isinstance(answer, dict):
        return Answer(False, status_code=status, error="The partner's answer has no result.")
    if answer.get("errors"):
        text, permanent = _refusal(answer["errors"])
        return Answer(False, permanent=permanent, status_code=status, error=text)
    return Answer(True, status_code=status, data=answer)
