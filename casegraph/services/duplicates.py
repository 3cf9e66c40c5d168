"""Duplicate cases: finding similar open cases, and resolving a case as a duplicate of another.

Similar cases are found in two steps. The database narrows the field: open cases of the same
case type that the agent may see, not duplicates themselves, that share a word of the title or
description (``ILIKE``/``LIKE`` on word stems) or lie within the radius' bounding box; at most
``MAX_CANDIDATES`` of them, newest first. Python then ranks that short list: cosine
similarity of the word-stem frequencies (the title counting twice), blended with proximity
when both cases have coordinates. The same code runs on SQLite and PostgreSQL.

Marking a duplicate is judged by the life-cycle table exactly as ``PROPOSE_SOLUTION`` (who,
from which statuses) and recorded as ``MARK_DUPLICATE``: the duplicate moves to RESOLVED with
code DUPLICATE and points at its original, and the original records an event naming its new
duplicate, both in one transaction.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from casegraph._compat import tortoise_queryset
from casegraph.database.sql import POSTGRES, dialect_of
from casegraph.domain import lifecycle
from casegraph.domain.enums import CaseAction, CaseEventType, CaseStatus, ErrorCode, Relation, ResolutionCode
from casegraph.domain.errors import DomainError, permission_denied, validation_failed, version_conflict
from casegraph.domain.relations import Actor, relations_of
from casegraph.domain.text import bounding_box, cosine, distance_meters, terms, weighted_terms
from casegraph.domain.validation import clean_text
from casegraph.services.case_actions import MAX_ATTEMPTS, _state_changes
from casegraph.services.case_changes import ActionResult, StaleCase, commit_change
from casegraph.services.extensions import Transition, check_transition
from casegraph.services.knowledge import OnSuccess
from casegraph.services.publisher import Publisher
from casegraph.services.records import CASE_COLUMNS, CaseRecord
from casegraph.services.visibility import load_visible_case, visible_cases
from models import Case

DEFAULT_RADIUS_METERS: Final = 500.0
MAX_RADIUS_METERS: Final = 50_000.0
DEFAULT_SIMILAR: Final = 10
MAX_SIMILAR: Final = 50
MAX_CANDIDATES: Final = 500
MAX_PREFILTER_WORDS: Final = 12
MIN_PREFILTER_LENGTH: Final = 3
MIN_SCORE: Final = 0.2
TEXT_SHARE: Final = 0.6
TITLE_WEIGHT: Final = 2
OPEN_STATUSES: Final = tuple(
    s for s in CaseStatus if s not in (CaseStatus.DRAFT, CaseStatus.CLOSED, CaseStatus.CANCELLED)
)
REVIEWING_RELATIONS: Final = frozenset({Relation.ASSIGNEE, Relation.MANAGER, Relation.GROUP_AGENT})
DEFAULT_NOTES: Final = "Resolved as a duplicate of a case that is already being handled."


@dataclass(frozen=True)
class Similar:
    case: CaseRecord
    score: float
    text_similarity: float
    distance_meters: float | None


async def similar_cases(
    *, actor: Actor, case_id: str, first: int | None = None, radius_meters: float | None = None
) -> list[Similar]:
    """Open cases like this one, most similar first; only cases the actor may see.

    For staff handling the case (assigned agent, manager, agents of its group).
    """
    subject = await load_visible_case(actor, case_id)
    if not relations_of(actor, subject.parties()) & REVIEWING_RELATIONS:
        raise permission_denied("Only staff handling the case may look for its duplicates.")
    limit = DEFAULT_SIMILAR if first is None else first
    if not 0 <= limit <= MAX_SIMILAR:
        raise validation_failed("first", f"first must be between 0 and {MAX_SIMILAR}.")
    radius = DEFAULT_RADIUS_METERS if radius_meters is None else radius_meters
    if not 0 < radius <= MAX_RADIUS_METERS:
        raise validation_failed("radiusMeters", f"radiusMeters must be above 0 and at most {MAX_RADIUS_METERS:g}.")
    if subject.case_type_id is None or limit == 0:
        return []
    located = subject.latitude is not None and subject.longitude is not None
    near = _near(subject, radius) if located else None
    words = _prefilter_words(subject)
    if near is None and not words:
        return []
    wording = Q(*(Q(title__icontains=w) | Q(description__icontains=w) for w in words), join_type=Q.OR)
    scope = Q(wording, near, join_type=Q.OR) if words and near is not None else (near if near is not None else wording)
    rows = await similar_candidates(actor, subject.case_type_id, subject.id, scope)
    mine = _words(subject)
    ranked: list[Similar] = []
    for row in rows:
        other = CaseRecord.from_row(row)
        text = cosine(mine, _words(other))
        distance: float | None = None
        score = text
        if located and other.latitude is not None and other.longitude is not None:
            assert subject.latitude is not None and subject.longitude is not None
            distance = distance_meters(subject.latitude, subject.longitude, other.latitude, other.longitude)
            proximity = max(0.0, 1 - distance / radius)
            score = TEXT_SHARE * text + (1 - TEXT_SHARE) * proximity
        if score >= MIN_SCORE:
            ranked.append(
                Similar(other, round(score, 4), round(text, 4), None if distance is None else round(distance, 1))
            )
    ranked.sort(key=lambda s: (-s.score, s.case.created_at, s.case.id))
    return ranked[:limit]


def similar_walks(actor: Actor, case_type_id: int, case_id: str, scope: Q) -> list[QuerySet[Case]]:
    """The statements ``similar_candidates`` runs: the newest open cases of the type (at most
    ``MAX_CANDIDATES``) the actor sees, matching ``scope``, read through the type's open cases
    (0024's ``cases_page_type_created_at``: case type, status, creation), not through every
    case.

    PostgreSQL: one walk per open status. Its connections keep generic plans (casegraph/db.py),
    which cannot know the type is rare: for ``status IN (…)`` one walked every case by creation
    time, expecting the type's cases to come early. With ``status = $n`` the type's index yields
    each walk in creation order and LIMIT stops it. SQLite plans for the values: one statement."""
    visible = (
        visible_cases(actor)
        .filter(case_type_id=case_type_id, duplicate_of_id__isnull=True)
        .exclude(id=case_id)
        .filter(scope)
    )
    if dialect_of(tortoise_queryset.connection_for(visible)) == POSTGRES:
        walks = [visible.filter(status=status) for status in OPEN_STATUSES]
    else:
        walks = [visible.filter(status__in=list(OPEN_STATUSES))]
    return [walk.order_by("-created_at", "-id").limit(MAX_CANDIDATES) for walk in walks]


async def similar_candidates(actor: Actor, case_type_id: int, case_id: str, scope: Q) -> list[dict[str, Any]]:
    """The rows (``CASE_COLUMNS``) of ``similar_walks``, newest first, at most ``MAX_CANDIDATES``."""
    walks = [await walk.values(*CASE_COLUMNS) for walk in similar_walks(actor, case_type_id, case_id, scope)]
    if len(walks) == 1:
        return walks[0]
    newest = heapq.merge(*walks, key=lambda row: (row["created_at"], row["id"]), reverse=True)
    return list(itertools.islice(newest, MAX_CANDIDATES))


def _words(case: CaseRecord) -> dict[str, int]:
    return dict(weighted_terms([(case.title, TITLE_WEIGHT), (case.description, 1)]))


def _prefilter_words(case: CaseRecord) -> list[str]:
    """Substrings every similar text will contain: stems of the title's, then the description's, words.

    A stem ending in ``y`` came from ``-ies`` maybe, so it is cut before the y ("cities" → "cit").
    """
    found: list[str] = []
    for term in [*terms(case.title), *sorted(set(terms(case.description)), key=lambda t: (-len(t), t))]:
        word = term[:-1] if term.endswith("y") else term
        if len(word) >= MIN_PREFILTER_LENGTH and word not in found:
            found.append(word)
    return found[:MAX_PREFILTER_WORDS]


def _near(case: CaseRecord, radius: float) -> Q:
    assert case.latitude is not None and case.longitude is not None
    south, north, west, east = bounding_box(case.latitude, case.longitude, radius)
    return Q(latitude__gte=south, latitude__lte=north, longitude__gte=west, longitude__lte=east)


async def mark_duplicate(
    *,
    actor: Actor,
    case_id: str,
    duplicate_of_id: str,
    resolution_notes: str | None,
    expected_version: int | None,
    now: datetime,
    publisher: Publisher,
    on_success: OnSuccess = None,
) -> ActionResult:
    """Resolve ``case_id`` as a duplicate of ``duplicate_of_id``; returns the duplicate's result.

    Records two MARK_DUPLICATE events in one transaction: the duplicate's (to RESOLVED, code
    DUPLICATE) and the original's (status unchanged), so subscribers of either see the link.
    """
    for _ in range(MAX_ATTEMPTS):
        case = await load_visible_case(actor, case_id)
        grant = lifecycle.authorize(CaseAction.PROPOSE_SOLUTION, relations_of(actor, case.parties()), case.state)
        original = await _original(actor, case, duplicate_of_id)
        notes = clean_text("resolutionNotes", resolution_notes, required=False) or DEFAULT_NOTES
        if expected_version is not None and expected_version != case.version:
            raise version_conflict(expected_version, case.version)
        target, event_type = lifecycle.transition(
            action=CaseAction.PROPOSE_SOLUTION,
            workflow=case.workflow,
            state=case.state,
            grant=grant,
            facts=case.facts(),
        )
        await check_transition(
            Transition(case=case, action=CaseAction.MARK_DUPLICATE, target=target, actor=actor, now=now)
        )
        changes = {
            **_state_changes(CaseAction.PROPOSE_SOLUTION, case, target, actor, now),
            "resolution_code": ResolutionCode.DUPLICATE,
            "resolution_notes": notes,
            "duplicate_of_id": original.id,
        }
        try:
            async with in_transaction():
                await _hold_both(case, original)
                result = await commit_change(
                    case=case,
                    actor_id=actor.user_id,
                    action=CaseAction.MARK_DUPLICATE,
                    event_type=event_type,
                    target=target,
                    changes=changes,
                    summary={
                        "resolutionCode": ResolutionCode.DUPLICATE.value,
                        "resolutionNotes": notes,
                        "duplicateOfId": original.id,
                    },
                    now=now,
                )
                linked = await commit_change(
                    case=original,
                    actor_id=actor.user_id,
                    action=CaseAction.MARK_DUPLICATE,
                    event_type=CaseEventType.CASE_UPDATED,
                    target=original.state,
                    changes={},
                    summary={"duplicateId": case.id},
                    now=now,
                )
                if on_success is not None:
                    await on_success(result)
        except StaleCase:
            if expected_version is not None:
                latest = await load_visible_case(actor, case_id)
                if latest.version != expected_version:
                    raise version_conflict(expected_version, latest.version) from None
            continue
        await publisher.published([result.event, linked.event])
        return result
    latest = await load_visible_case(actor, case_id)
    raise version_conflict(expected_version or latest.version - 1, latest.version)


async def _original(actor: Actor, case: CaseRecord, duplicate_of_id: str) -> CaseRecord:
    """The case to point at: visible to the actor, another case, still open, not a duplicate itself."""
    wanted = clean_text("duplicateOfId", duplicate_of_id, required=True, limit=64)
    assert wanted is not None
    try:
        original = await load_visible_case(actor, wanted)
    except DomainError:
        # The refusal names the input field that points at the missing case.
        raise DomainError(ErrorCode.NOT_FOUND, "Case not found.", "duplicateOfId") from None
    if original.id == case.id:
        raise validation_failed("duplicateOfId", "A case cannot duplicate itself.")
    if lifecycle.is_terminal(original.status) or original.status is CaseStatus.DRAFT:
        raise validation_failed("duplicateOfId", "The original must be an open case.")
    if original.duplicate_of_id is not None and original.resolution_code is ResolutionCode.DUPLICATE:
        raise validation_failed("duplicateOfId", "That case is a duplicate itself: name its original instead.")
    return original


async def _hold_both(case: CaseRecord, original: CaseRecord) -> None:
    """Take both rows' write locks in id order, before the event counter's.

    Every other writer locks one case row and then the counter; taking ours in a fixed order
    first means two writers never wait on each other in a circle (PostgreSQL would abort one).
    A row that moved since we read it ends the attempt (StaleCase), and we judge again.
    """
    for record in sorted((case, original), key=lambda r: r.id):
        held = await Case.filter(id=record.id, version=record.version).update(version=record.version)
        if held != 1:
            raise StaleCase(record.id)
