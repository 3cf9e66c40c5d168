"""The plain HTTP endpoints beside GraphQL: liveness, readiness and e-mail intake."""

from __future__ import annotations

import asyncio
import hmac
import os
from collections.abc import Awaitable
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from tortoise.connection import get_connection

from casegraph.client_address import client_address
from casegraph.domain.enums import ErrorCode
from casegraph.domain.errors import DomainError
from casegraph.intake_guesses import WrongGuesses
from casegraph.runtime import Runtime
from casegraph.services.clamd_scanner import ClamdScanner
from casegraph.services.email_intake import receive_email
from casegraph.services.publisher import NullPublisher
from casegraph.services.reply_addresses import reply_addresses
from casegraph.services.s3_store import S3Store

# Each of the attachment parts' checks gets this long: a load balancer's probe must not hang on them.
PART_TIMEOUT: Final = 2.0


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


def readyz_endpoint(runtime: Runtime) -> Any:
    async def readyz(request: Request) -> Response:
        checks: dict[str, str] = {}
        try:
            await get_connection("default").execute_query("SELECT 1")
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - readiness reports, never raises
            checks["database"] = f"unavailable: {type(exc).__name__}"
        if runtime.live is not None:
            checks["broadcast"] = "ok" if runtime.live.healthy else "unavailable: reconnecting"
        elif not isinstance(runtime.publisher, NullPublisher):
            checks["broadcast"] = "ok"  # a test-injected publisher
        else:
            checks["broadcast"] = "unavailable: not started"
        # The parts files need, when configured: uploads fail without the store, and files wait
        # unserved without clamd.
        store, scanner = runtime.attachments.store, runtime.attachments.scanner
        if isinstance(store, S3Store):
            checks["attachmentStore"] = await _probe(store.check_bucket())
        if isinstance(scanner, ClamdScanner):
            checks["scanner"] = await _probe(scanner.ping())
        ready = all(value == "ok" for value in checks.values())
        # The pid tells operators (and tests) which worker of `serve --workers N` answered.
        body = {"ready": ready, "checks": checks, "pid": os.getpid()}
        return JSONResponse(body, status_code=200 if ready else 503)

    return readyz


async def _probe(check: Awaitable[None]) -> str:
    try:
        async with asyncio.timeout(PART_TIMEOUT):
            await check
    except TimeoutError:
        return f"unavailable: no answer within {PART_TIMEOUT:.0f} s"
    except Exception as exc:  # noqa: BLE001 - readiness reports, never raises
        return f"unavailable: {type(exc).__name__}"
    return "ok"


def email_intake_endpoint(runtime: Runtime) -> Any:
    """POST a raw RFC 822 message with ``X-Casegraph-Intake-Secret``; 404 while intake is off.

    Too many wrong secrets from one address: 429 with ``Retry-After`` until its window ends.
    """
    settings = runtime.settings
    wrong_guesses = WrongGuesses(settings.intake_guesses, runtime.clock)

    async def email_intake(request: Request) -> Response:
        secret = settings.intake_secret
        if secret is None:
            return JSONResponse({"error": {"code": "NOT_FOUND", "message": "E-mail intake is not enabled."}}, 404)
        address = client_address(request.client)
        # Checked before the secret and before the body is read: a refused address learns nothing.
        retry_after = wrong_guesses.retry_after(address)
        if retry_after is not None:
            error = {
                "code": "RATE_LIMITED",
                "message": f"Too many wrong intake secrets: retry after {retry_after} s.",
                "retryAfter": retry_after,
            }
            return JSONResponse({"error": error}, 429, headers={"Retry-After": str(retry_after)})
        given = request.headers.get("x-casegraph-intake-secret", "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            wrong_guesses.record(address)
            return JSONResponse({"error": {"code": "UNAUTHENTICATED", "message": "Wrong intake secret."}}, 401)
        raw = await request.body()
        try:
            result = await receive_email(
                raw=raw,
                intake_case_type=runtime.settings.intake_case_type,
                now=runtime.clock(),
                publisher=runtime.publisher,
                reply=reply_addresses(runtime.settings),
                authserv_id=runtime.settings.intake_authserv_id,
                desk=runtime.attachments,
                max_bytes=settings.max_intake_bytes,
            )
        except DomainError as refusal:
            # Not GraphQL: the intake webhook answers a refusal with an HTTP status and a JSON body.
            status = {ErrorCode.NOT_FOUND: 404, ErrorCode.PERMISSION_DENIED: 403}.get(refusal.code, 400)
            error = {"code": refusal.code.value, "message": refusal.message, "field": refusal.field}
            return JSONResponse({"error": error}, status)
        body = {"action": result.action, "caseId": result.case_id, "number": result.number}
        return JSONResponse(body, 201 if result.action == "created" else 200)

    return email_intake
