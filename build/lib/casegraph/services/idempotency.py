"""Idempotency keys (api.md): the first completed response to (user, key) is kept 24 hours.

A repeat with the same operation and input gets that response back unchanged and changes
nothing; the same key with another operation or input is refused; a repeat that arrives while
the first is still running waits for it. A successful response is stored in the same
transaction as the change it describes, so a crash can never leave one without the other.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Final

from tortoise.exceptions import IntegrityError

from casegraph.domain.enums import ErrorCode
from casegraph.domain.errors import DomainError, validation_failed
from casegraph.domain.validation import clean_text
from casegraph.services.case_changes import ActionResult
from casegraph.services.records import CaseRecord, EventRecord, EVENT_COLUMNS
from models import CaseEvent, IdempotencyRecord

RETENTION: Final = timedelta(hours=24)
# A claim with no response after this long belongs to a request that died (a crashed or killed
# server leaves its claims behind); it may be taken over. Mutations take milliseconds, so this
# is far above a live request's time, and short enough that a client's retry after a crash is
# answered, not kept waiting for minutes.
ABANDONED_AFTER: Final = timedelta(seconds=30)
WAIT_STEP: Final = 0.05
# Longer than ABANDONED_AFTER: a repeat waits for the first request or, if that one died, runs
# in its place; it is refused only when the first is somehow still running after all that.
MAX_WAIT: Final = ABANDONED_AFTER.total_seconds() + 5.0

Runner = Callable[[Callable[[ActionResult], Awaitable[None]]], Awaitable[ActionResult]]


def input_fingerprint(operation: str, data: dict[str, Any]) -> str:
    canonical = json.dumps({"op": operation, "input": data}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def run_idempotent(
    *,
    user_id: str,
    key: str,
    operation: str,
    input_hash: str,
    now: datetime,
    run: Runner,
) -> ActionResult:
    key = clean_text("idempotencyKey", key, required=True, limit=255) or key
    claim = await _claim(user_id=user_id, key=key, operation=operation, input_hash=input_hash, now=now)
    if not isinstance(claim, IdempotencyRecord):
        return await _replay(claim)

    async def store(result: ActionResult) -> None:
        await IdempotencyRecord.filter(id=claim.id).update(response=_encode(result), completed_at=now)

    try:
        return await run(store)
    except DomainError as refusal:
        await IdempotencyRecord.filter(id=claim.id).update(response=_encode_error(refusal), completed_at=now)
        raise
    except BaseException:
        # Nothing was committed for this key; let a retry run it afresh.
        await IdempotencyRecord.filter(id=claim.id, response__isnull=True).delete()
        raise


async def _claim(
    *, user_id: str, key: str, operation: str, input_hash: str, now: datetime
) -> IdempotencyRecord | dict[str, Any]:
    """Our new claim row, or the stored response of an earlier request with this key."""
    waited = 0.0
    while True:
        # The clock moves on while we wait: a claim can become abandoned under our eyes.
        current = now + timedelta(seconds=waited)
        try:
            return await IdempotencyRecord.create(
                user_id=user_id, key=key, operation=operation, input_hash=input_hash, created_at=current
            )
        except IntegrityError:
            pass
        existing = await IdempotencyRecord.get_or_none(user_id=user_id, key=key)
        if existing is None:
            continue
        if existing.created_at < now - RETENTION:
            await IdempotencyRecord.filter(id=existing.id, created_at=existing.created_at).delete()
            continue
        if existing.operation != operation or existing.input_hash != input_hash:
            raise validation_failed("idempotencyKey", "This idempotency key was used for another request.")
        if existing.response is not None:
            return existing.response
        if existing.created_at < current - ABANDONED_AFTER:
            await IdempotencyRecord.filter(id=existing.id, response__isnull=True).delete()
            continue
        if waited >= MAX_WAIT:
            raise DomainError(
                ErrorCode.VERSION_CONFLICT,
                "A request with this idempotency key is still running; try again later.",
                "idempotencyKey",
            )
        await asyncio.sleep(WAIT_STEP)
        waited += WAIT_STEP


def _encode(result: ActionResult) -> dict[str, Any]:
    return {"case": result.case.to_json(), "event": result.event.sequence, "extra": result.extra}


def _encode_error(refusal: DomainError) -> dict[str, Any]:
    return {"error": {"code": refusal.code.value, "message": refusal.message, "field": refusal.field}}


async def _replay(response: dict[str, Any]) -> ActionResult:
    if "error" in response:
        error = response["error"]
        raise DomainError(ErrorCode(error["code"]), error["message"], error["field"])
    rows = await CaseEvent.filter(sequence=response["event"]).values(*EVENT_COLUMNS)
    return ActionResult(CaseRecord.from_json(response["case"]), EventRecord.from_row(rows[0]), response["extra"])
