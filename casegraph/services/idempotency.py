"""Idempotency keys (api.md): the first completed response to (user, key) is kept 24 hours.

A repeat with the same operation and input gets that response back unchanged and changes
nothing; the same key with another operation or input is refused; a repeat that arrives while
the first is still running waits for it. A successful response is stored in the same
transaction as the change it describes, so a crash can never leave one without the other.

A running request's claim is a lease: while its response is NULL, the row's ``created_at`` is
the holder's heartbeat, moved forward every ``RENEW_EVERY`` while the request runs. A holder
that dies — a crashed or killed server, or a request whose clean-up could not reach the database
(its connection died with PostgreSQL) — stops renewing, and a repeat takes the claim over once
the heartbeat is ``LEASE`` old: seconds, not the half minute a fixed timeout needed. A holder
that was taken over while it could not renew finds its claim gone when it stores its response,
in the change's own transaction, and that transaction is rolled back: one of the two wins.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

from tortoise.exceptions import IntegrityError

from casegraph.domain.enums import ErrorCode
from casegraph.domain.errors import DomainError, validation_failed
from casegraph.domain.validation import clean_text
from casegraph.services.case_changes import ActionResult
from casegraph.services.records import EVENT_COLUMNS, CaseRecord, EventRecord
from models import CaseEvent, IdempotencyRecord

RETENTION: Final = timedelta(hours=24)
# A claim whose heartbeat is older than this belongs to a request that died; it may be taken
# over. Several renewals fit in it, so a live holder that is merely slow keeps its claim.
LEASE: Final = timedelta(seconds=5)
RENEW_EVERY: Final = 1.0
WAIT_STEP: Final = 0.05
# Longer than LEASE: a repeat waits for the first request or, if that one died, runs in its
# place; it is refused only when the first is still running (and renewing) after all that.
MAX_WAIT: Final = LEASE.total_seconds() + 5.0

log = logging.getLogger(__name__)

Runner = Callable[[Callable[[ActionResult], Awaitable[None]]], Awaitable[ActionResult]]
T = TypeVar("T")


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
    return await run_keyed(
        user_id=user_id,
        key=key,
        operation=operation,
        input_hash=input_hash,
        now=now,
        run=run,
        encode=_encode,
        replay=_replay,
    )


async def run_keyed(
    *,
    user_id: str,
    key: str,
    operation: str,
    input_hash: str,
    now: datetime,
    run: Callable[[Callable[[T], Awaitable[None]]], Awaitable[T]],
    encode: Callable[[T], dict[str, Any]],
    replay: Callable[[dict[str, Any]], Awaitable[T]],
) -> T:
    """``run_idempotent`` for a mutation whose result is not a case event (``registerConstituent``):
    ``encode`` says what of its result is stored, ``replay`` makes the result again from that."""
    key = clean_text("idempotencyKey", key, required=True, limit=255) or key
    claim = await _claim(user_id=user_id, key=key, operation=operation, input_hash=input_hash, now=now)
    if not isinstance(claim, IdempotencyRecord):
        if "error" in claim:
            error = claim["error"]
            raise DomainError(ErrorCode(error["code"]), error["message"], error["field"])
        return await replay(claim)

    async def store(result: T) -> None:
        # In the change's transaction: if a repeat took our lapsed claim over, this change must
        # not commit beside the one the repeat makes.
        stored = await IdempotencyRecord.filter(id=claim.id, response__isnull=True).update(
            response=encode(result), completed_at=now
        )
        if stored != 1:
            raise DomainError(ErrorCode.VERSION_CONFLICT, TAKEN_OVER, "idempotencyKey")

    finished = asyncio.Event()
    asyncio.ensure_future(_renew(claim.id, now, finished))
    try:
        return await run(store)
    except DomainError as refusal:
        # A refusal is a completed response: a repeat with this key gets the same refusal back.
        finished.set()
        await _settle(
            IdempotencyRecord.filter(id=claim.id, response__isnull=True).update(
                response=_encode_error(refusal), completed_at=now
            )
        )
        raise
    except BaseException:
        finished.set()
        # Nothing was committed for this key; let a retry run it afresh.
        await _settle(IdempotencyRecord.filter(id=claim.id, response__isnull=True).delete())
        raise
    finally:
        finished.set()


TAKEN_OVER: Final = "This request took too long; a repeat with its idempotency key ran in its place."


async def _renew(claim_id: int, now: datetime, finished: asyncio.Event) -> None:
    """Move the claim's heartbeat forward until the request has ``finished`` (not cancelled: a
    statement cut off halfway could leave a pooled connection in a bad state)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(finished.wait(), RENEW_EVERY)
        if finished.is_set():
            return
        beat = now + timedelta(seconds=loop.time() - started)
        try:
            await IdempotencyRecord.filter(id=claim_id, response__isnull=True).update(created_at=beat)
        except Exception:  # the database is away: the lease runs out, as it should
            log.debug("idempotency claim %s not renewed", claim_id, exc_info=True)


async def _settle(step: Awaitable[object]) -> None:
    """Record a request's end on its claim, if the database lets us: when it does not (the very
    failure that ended the request), the claim's lease runs out instead and a repeat takes over."""
    try:
        await step
    except Exception:  # see above; the request's own error is what the caller gets
        log.warning("idempotency claim left to expire: the database did not answer", exc_info=True)


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
        if existing.created_at < current - LEASE:
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
    error = {"code": refusal.code.value, "message": refusal.message, "field": refusal.field}
    return {"error": error | ({"reason": refusal.reason} if refusal.reason is not None else {})}


async def _replay(response: dict[str, Any]) -> ActionResult:
    if "error" in response:
        error = response["error"]
        raise DomainError(ErrorCode(error["code"]), error["message"], error["field"], error.get("reason"))
    rows = await CaseEvent.filter(sequence=response["event"]).values(*EVENT_COLUMNS)
    return ActionResult(CaseRecord.from_json(response["case"]), EventRecord.from_row(rows[0]), response["extra"])
