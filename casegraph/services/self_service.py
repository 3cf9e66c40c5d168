"""Recording how a constituent helped themselves while writing a new request (the rules:
``casegraph/domain/self_service.py``): the articles read in a draft session, then whether the
request was filed or abandoned. The deflection figure is ``analytics_deflection.py``.

Each step is one or two single-row statements on keys (the draft's unique ``(requester,
draft_key)``, the read's unique ``(draft, article)``), so a retried or repeated report changes
nothing: a second read of the same article, a second "abandoned", a "filed" after "abandoned".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError

from casegraph.domain.enums import ErrorCode
from casegraph.domain.errors import DomainError, not_found, permission_denied, transition_not_allowed, validation_failed
from casegraph.domain.knowledge import ArticleStatus
from casegraph.domain.relations import Actor
from casegraph.domain.self_service import (
    MAX_DRAFTS_PER_DAY,
    MAX_READS_PER_DRAFT,
    DraftOutcome,
    SelfServiceStep,
    may_record,
)
from casegraph.domain.validation import lookup_key, uuid_key
from casegraph.services.column_limits import max_length
from casegraph.services.knowledge import load_article
from models import Case, CaseType, SelfServiceDraft, SelfServiceRead, ServiceDefinition


@dataclass(frozen=True)
class SelfServiceReport:
    """One step of a draft session as the portal reports it (ids as given, not yet checked)."""

    draft_id: str
    step: SelfServiceStep
    service_code: str | None = None
    article_id: str | None = None
    case_id: str | None = None


async def record_self_service(*, actor: Actor, report: SelfServiceReport, now: datetime) -> bool:
    """True when the step changed what is counted; False when it was known already (or nothing was read)."""
    if not may_record(actor):
        raise permission_denied("Only constituents record what they read before filing a request.")
    draft_key = uuid_key(report.draft_id.strip())
    if draft_key is None:
        raise validation_failed("draftId", "A draft id is a UUID drawn by the portal.")
    if report.step is SelfServiceStep.ARTICLE_READ:
        return await _article_read(actor, draft_key, report, now)
    draft = await SelfServiceDraft.get_or_none(requester_id=actor.user_id, draft_key=draft_key)
    if report.step is SelfServiceStep.FILED:
        case_id = await _own_case(actor, report.case_id)
        if draft is None:
            return False  # nothing was read: the filing is no part of the figure
        return await _end(draft, DraftOutcome.FILED, now, case_id=case_id)
    if draft is None:
        return False
    return await _end(draft, DraftOutcome.ABANDONED, now)


async def _article_read(actor: Actor, draft_key: str, report: SelfServiceReport, now: datetime) -> bool:
    if report.article_id is None:
        raise validation_failed("articleId", "Which article was read?")
    article = await load_article(actor, report.article_id.strip(), field="articleId")
    if article.status is not ArticleStatus.PUBLISHED:
        raise DomainError(ErrorCode.NOT_FOUND, "Article not found.", "articleId")
    draft = await _draft(actor, draft_key, report.service_code, now)
    if draft is None:
        return False  # past the day's drafts of this constituent: not counted
    if draft.outcome is not None:
        raise transition_not_allowed("This request was filed or left already; a new one starts a new draft.")
    if await SelfServiceRead.filter(draft_id=draft.id, article_id=article.id).exists():
        return False
    if await SelfServiceRead.filter(draft_id=draft.id).count() >= MAX_READS_PER_DRAFT:
        raise validation_failed("articleId", f"At most {MAX_READS_PER_DRAFT} articles are counted per request.")
    try:
        await SelfServiceRead.create(draft_id=draft.id, article_id=article.id, read_at=now)
    except IntegrityError:
        return False  # the same read, reported twice at once: counted by the other report
    await SelfServiceDraft.filter(id=draft.id, outcome__isnull=True).update(last_step_at=now)
    return True


async def _draft(actor: Actor, draft_key: str, service_code: str | None, now: datetime) -> SelfServiceDraft | None:
    """The actor's draft session ``draft_key``, begun now (under a public service) if new; None
    when the actor began ``MAX_DRAFTS_PER_DAY`` already in the last day."""
    existing = await SelfServiceDraft.get_or_none(requester_id=actor.user_id, draft_key=draft_key)
    if existing is not None:
        return existing
    code = lookup_key((service_code or "").strip(), max_length(ServiceDefinition, "code"))
    service = await ServiceDefinition.get_or_none(code=code, public=True, active=True) if code else None
    if service is None:
        raise validation_failed("serviceCode", "No public service has that code.")
    case_type = await CaseType.get(id=service.case_type_id)
    # On the (requester, draft_key) index: this constituent's rows only.
    today = await SelfServiceDraft.filter(requester_id=actor.user_id, started_at__gt=now - timedelta(days=1)).count()
    if today >= MAX_DRAFTS_PER_DAY:
        return None
    try:
        return await SelfServiceDraft.create(
            id=uuid.uuid4(),
            requester_id=actor.user_id,
            draft_key=draft_key,
            case_type_id=case_type.id,
            assignment_group_id=case_type.assignment_group_id,
            started_at=now,
            last_step_at=now,
        )
    except IntegrityError:
        # Begun by a concurrent report of the same session.
        return await SelfServiceDraft.get(requester_id=actor.user_id, draft_key=draft_key)


async def _own_case(actor: Actor, case_id: str | None) -> str:
    """The id of a case the actor requested, or NOT_FOUND (also for other people's cases)."""
    key = uuid_key((case_id or "").strip())
    if key is None or not await Case.filter(id=key, requester_id=actor.user_id, deleted_at__isnull=True).exists():
        raise DomainError(not_found().code, "Case not found.", "caseId")
    return key


async def _end(draft: SelfServiceDraft, outcome: DraftOutcome, now: datetime, *, case_id: str | None = None) -> bool:
    """The first ending wins: a conditional update, so of two endings at once only one counts."""
    ended = await SelfServiceDraft.filter(id=draft.id, outcome__isnull=True).update(
        outcome=outcome, last_step_at=now, case_id=case_id
    )
    return ended == 1
