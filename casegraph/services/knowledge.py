"""The knowledge base: writing and publishing articles, searching them, using them on cases.

Who may do what is in ``casegraph.domain.knowledge``. Articles are not cases: their changes are
versioned (optimistic ``UPDATE … WHERE version = v``) but not case events. Using an article on
a case is a case action: ``link_article`` records a ``LINK_ARTICLE`` event, and
``resolve_with_article`` is ``PROPOSE_SOLUTION`` (through ``perform``) with notes taken from
the article, the link written in the same transaction.

Search is a small inverted index (``kb_article_terms``: one row per article and word stem,
weighted: title and keywords count three times the body) rewritten with the article. Ranking
runs in SQL and is the same on SQLite and PostgreSQL: articles matching more of the query's
words first, then by the sum of the matched words' weights, each scaled by its rarity (inverse
document frequency). PostgreSQL's ``to_tsvector`` would rank a little better but would leave
SQLite, which the test-suite and small deployments run on, with another behaviour.
"""

from __future__ import annotations

import base64
import binascii
import math
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from tortoise.expressions import Case as SqlCase
from tortoise.expressions import F, Subquery, When
from tortoise.functions import Count, Sum
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from casegraph.domain import knowledge as rules
from casegraph.domain import lifecycle
from casegraph.domain.commands import ProposeSolution
from casegraph.domain.desk_actions import LINKERS
from casegraph.domain.enums import CaseAction, CaseEventType, ErrorCode, ResolutionCode
from casegraph.domain.errors import (
    DomainError,
    permission_denied,
    transition_not_allowed,
    validation_failed,
    version_conflict,
)
from casegraph.domain.knowledge import ArticleStatus
from casegraph.domain.relations import Actor, relations_of
from casegraph.domain.text import term_counts, terms
from casegraph.domain.validation import TEXT_LIMIT, clean_text, clean_title, lookup_key, uuid_key
from casegraph.services.case_actions import MAX_ATTEMPTS, ActionRequest, perform
from casegraph.services.case_changes import ActionResult, StaleCase, commit_change, refuse_if_pinned, retries_exhausted
from casegraph.services.case_queries import page_size
from casegraph.services.column_limits import max_length
from casegraph.services.extensions import Transition, check_transition
from casegraph.services.page_sizes import checked_page_size
from casegraph.services.publisher import Publisher
from casegraph.services.records import CaseRecord, EventRecord
from casegraph.services.visibility import load_visible_case
from models import Article, ArticleTerm, CaseArticleLink, CaseType, User

MAX_KEYWORDS: Final = 20
KEYWORD_LIMIT: Final = 50
SEARCH_LIMIT: Final = 200
MAX_QUERY_TERMS: Final = 20
# The portal's suggestions while a request is typed: a few articles from a bounded read.
SUGGESTIONS_DEFAULT: Final = 3
SUGGESTIONS_MAX: Final = 10
SUGGESTION_TERMS: Final = 12
SUGGESTION_ROWS_PER_TERM: Final = 50
# What is being typed: a title and the start of a description (only the first words are used).
SUGGESTION_TEXT_LIMIT: Final = 2000
TITLE_WEIGHT: Final = 3
KEYWORD_WEIGHT: Final = 3
# Repeating a word does not buy unlimited rank.
MAX_BODY_COUNT: Final = 10
MAX_TITLE_COUNT: Final = 3
# Staff with one of these relations to a case may link articles to it (like a work note).
LINKING_RELATIONS: Final = LINKERS
# Cases whose resolution may become an article: those solved, not e.g. duplicates.
SOLVED_CODES: Final = frozenset(
    {ResolutionCode.SOLVED, ResolutionCode.SOLVED_WORKAROUND, ResolutionCode.SOLVED_BY_PARTNER}
)

OnSuccess = Callable[[ActionResult], Awaitable[None]] | None


# --- reading -----------------------------------------------------------------------------------


def readable_articles(actor: Actor) -> QuerySet[Article]:
    """Articles the actor may read: published ones, and drafts for knowledge staff."""
    if rules.reads_drafts(actor):
        return Article.all()
    return Article.filter(status=ArticleStatus.PUBLISHED)


async def load_article(actor: Actor, article_id: str, *, field: str | None = None) -> Article:
    """The article if the actor may read it, or NOT_FOUND (also for ids that are not UUIDs as we issue them)."""
    if uuid_key(article_id) is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Article not found.", field)
    article = await readable_articles(actor).get_or_none(id=article_id)
    if article is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Article not found.", field)
    return article


@dataclass(frozen=True)
class ArticleFilter:
    search: str | None = None
    status: ArticleStatus | None = None
    case_type_code: str | None = None
    author_id: str | None = None


@dataclass(frozen=True)
class ArticlePage:
    articles: list[Article]
    scores: list[float | None]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    total: int


async def search_articles(
    *, actor: Actor, flt: ArticleFilter, first: int | None, after: str | None, max_page: int
) -> ArticlePage:
    """Readable articles matching the filter: ranked by relevance when searching, else newest first.

    Pages are cut by offset (a relevance order has no stable keyset); ``first`` is refused above ``max_page``.
    """
    limit = page_size(first, max_page=max_page)
    offset = _decode_offset(after)
    query = readable_articles(actor)
    if flt.status is not None:
        query = query.filter(status=flt.status)
    if flt.author_id is not None:
        author = lookup_key(flt.author_id, max_length(User, "id"))
        query = query.filter(author_id=author) if author is not None else query.filter(id__isnull=True)
    if flt.case_type_code is not None:
        code = lookup_key(flt.case_type_code.strip(), max_length(CaseType, "code"))
        query = query.filter(case_type__code=code) if code is not None else query.filter(id__isnull=True)
    search = clean_text("filter.search", flt.search, required=False, limit=SEARCH_LIMIT)
    if search is None:
        total = await query.count()
        rows = await query.order_by("-updated_at", "-id").offset(offset).limit(limit + 1)
        return _page(rows[:limit], [None] * min(len(rows), limit), offset, len(rows) > limit, total)
    wanted = list(dict.fromkeys(terms(search)))[:MAX_QUERY_TERMS]
    if not wanted:
        return _page([], [], offset, False, 0)
    matching = query.filter(id__in=Subquery(ArticleTerm.filter(term__in=wanted).values("article_id")))
    total = await matching.count()
    rarity = await _inverse_document_frequency(wanted)
    # Tortoise's stubs do not know CASE inside SUM; both render as plain SQL on either backend.
    score: Any = SqlCase(*(When(term=t, then=F("weight") * rarity[t]) for t in wanted), default=F("weight") * 0)
    ranked = await (
        ArticleTerm.filter(term__in=wanted, article_id__in=Subquery(query.values("id")))
        .annotate(matched=Count("id"), score=Sum(score))
        .group_by("article_id")
        .order_by("-matched", "-score", "article_id")
        .offset(offset)
        .limit(limit + 1)
        .values("article_id", "matched", "score")
    )
    by_id = {str(a.id): a for a in await Article.filter(id__in=[row["article_id"] for row in ranked[:limit]])}
    found = [(by_id[str(row["article_id"])], row) for row in ranked[:limit] if str(row["article_id"]) in by_id]
    scores: list[float | None] = [_relevance(int(row["matched"]), int(row["score"] or 0)) for _, row in found]
    return _page([article for article, _ in found], scores, offset, len(ranked) > limit, total)


async def suggest_articles(*, text: str, first: int | None) -> list[Article]:
    """Published articles for the words of ``text``: what the portal offers while a request is typed.

    Bounded, whatever the number of articles: at most ``SUGGESTION_TERMS`` words are looked up,
    each reading at most ``SUGGESTION_ROWS_PER_TERM`` of its heaviest published rows through
    the ``(term, weight)`` index; articles matching more of the words come first, then by their
    summed weight. Drafts are never offered, whoever asks (these are the public's suggestions).
    """
    limit = max(checked_page_size(first, cap=SUGGESTIONS_MAX, default=SUGGESTIONS_DEFAULT), 1)
    cleaned = clean_text("text", text, required=False, limit=SUGGESTION_TEXT_LIMIT)
    wanted = list(dict.fromkeys(terms(cleaned)))[:SUGGESTION_TERMS]
    matched: dict[str, int] = {}
    weight: dict[str, int] = {}
    for term in wanted:
        rows = (
            await ArticleTerm.filter(term=term, article__status=ArticleStatus.PUBLISHED)
            .order_by("-weight")
            .limit(SUGGESTION_ROWS_PER_TERM)
            .values("article_id", "weight")
        )
        for row in rows:
            key = str(row["article_id"])
            matched[key] = matched.get(key, 0) + 1
            weight[key] = weight.get(key, 0) + int(row["weight"])
    best = sorted(matched, key=lambda key: (-matched[key], -weight[key], key))[:limit]
    found = {str(a.id): a for a in await Article.filter(id__in=best, status=ArticleStatus.PUBLISHED)}
    return [found[key] for key in best if key in found]


def _relevance(matched: int, score: int) -> float:
    """Query words matched, plus a fraction (< 1) growing with their weight and rarity: the rank order."""
    weight = score / 100
    return round(matched + weight / (1 + weight), 4)


async def _inverse_document_frequency(wanted: Sequence[str]) -> dict[str, int]:
    """ln(1 + N / df) per term, scaled to an integer so the ranking arithmetic stays exact in SQL."""
    documents = max(1, await Article.all().count())
    rows = (
        await ArticleTerm.filter(term__in=list(wanted)).annotate(df=Count("id")).group_by("term").values("term", "df")
    )
    frequency = {row["term"]: int(row["df"]) for row in rows}
    return {t: 1 + int(100 * math.log(1 + documents / max(1, frequency.get(t, 0)))) for t in wanted}


def _page(articles: list[Article], scores: list[float | None], offset: int, has_next: bool, total: int) -> ArticlePage:
    return ArticlePage(
        articles=articles,
        scores=scores,
        cursors=[_encode_offset(offset + i + 1) for i in range(len(articles))],
        has_next=has_next,
        has_previous=offset > 0,
        total=total,
    )


def _encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(f"kb:{offset}".encode()).decode()


def _decode_offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        prefix, _, raw = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if prefix != "kb" or not raw.isdigit() or len(raw) > 9:
            raise ValueError
        return int(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise validation_failed("after", "Not a cursor of this list.") from None


async def articles_linked_to(actor: Actor, case_ids: Sequence[str]) -> dict[str, list[Article]]:
    """Per (already authorized) case, the linked articles the actor may read, in link order."""
    links = await CaseArticleLink.filter(case_id__in=list(case_ids)).order_by("id").values("case_id", "article_id")
    readable = {
        str(a.id): a
        for a in await readable_articles(actor).filter(id__in=list({str(link["article_id"]) for link in links}))
    }
    found: dict[str, list[Article]] = {}
    for link in links:
        article = readable.get(str(link["article_id"]))
        if article is not None:
            found.setdefault(str(link["case_id"]), []).append(article)
    return found


# --- writing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleDraft:
    """Fields of an article to write; None leaves a field as it is (on update)."""

    title: str | None = None
    body: str | None = None
    case_type_code: str | None = None
    clear_case_type: bool = False
    keywords: Sequence[str] | None = None


async def create_article(
    *, actor: Actor, draft: ArticleDraft, now: datetime, source_case_id: str | None = None
) -> Article:
    """A new DRAFT article written by the actor (knowledge staff)."""
    if not rules.may_create(actor):
        raise permission_denied("Only agents, managers and administrators write knowledge articles.")
    title = clean_title(draft.title, required=True)
    body = clean_text("body", draft.body, required=True)
    assert title is not None and body is not None
    case_type_id = await _case_type_id(draft.case_type_code)
    keywords = clean_keywords(draft.keywords or ())
    async with in_transaction():
        article = await Article.create(
            id=uuid.uuid4(),
            title=title,
            body=body,
            status=ArticleStatus.DRAFT,
            case_type_id=case_type_id,
            keywords=keywords,
            author_id=actor.user_id,
            source_case_id=source_case_id,
            version=1,
            created_at=now,
            updated_at=now,
        )
        await _reindex(article)
    return article


async def update_article(
    *, actor: Actor, article_id: str, draft: ArticleDraft, expected_version: int | None, now: datetime
) -> Article:
    async def plan(article: Article) -> dict[str, Any]:
        if not rules.may_edit(actor, status=article.status, author_id=article.author_id):
            raise permission_denied("Agents edit only their own drafts; managers and administrators edit any article.")
        changes: dict[str, Any] = {}
        if draft.title is not None:
            changes["title"] = clean_title(draft.title, required=True)
        if draft.body is not None:
            changes["body"] = clean_text("body", draft.body, required=True)
        if draft.clear_case_type:
            if draft.case_type_code is not None:
                raise validation_failed("clearCaseType", "Give either caseTypeCode or clearCaseType, not both.")
            changes["case_type_id"] = None
        elif draft.case_type_code is not None:
            changes["case_type_id"] = await _case_type_id(draft.case_type_code)
        if draft.keywords is not None:
            changes["keywords"] = clean_keywords(draft.keywords)
        changes = {k: v for k, v in changes.items() if getattr(article, k) != v}
        if not changes:
            raise validation_failed("input", "Nothing to change: give at least one new value.")
        return changes

    return await _change_article(
        actor=actor, article_id=article_id, expected_version=expected_version, now=now, plan=plan
    )


async def publish_article(*, actor: Actor, article_id: str, expected_version: int | None, now: datetime) -> Article:
    async def plan(article: Article) -> dict[str, Any]:
        if not rules.may_publish(actor):
            raise permission_denied("Only managers and administrators publish articles.")
        if article.status is ArticleStatus.PUBLISHED:
            raise transition_not_allowed("The article is published already.")
        return {"status": ArticleStatus.PUBLISHED, "published_at": now, "published_by_id": actor.user_id}

    return await _change_article(
        actor=actor, article_id=article_id, expected_version=expected_version, now=now, plan=plan
    )


async def unpublish_article(*, actor: Actor, article_id: str, expected_version: int | None, now: datetime) -> Article:
    async def plan(article: Article) -> dict[str, Any]:
        if not rules.may_publish(actor):
            raise permission_denied("Only managers and administrators unpublish articles.")
        if article.status is not ArticleStatus.PUBLISHED:
            raise transition_not_allowed("The article is not published.")
        return {"status": ArticleStatus.DRAFT, "published_at": None, "published_by_id": None}

    return await _change_article(
        actor=actor, article_id=article_id, expected_version=expected_version, now=now, plan=plan
    )


async def _change_article(
    *,
    actor: Actor,
    article_id: str,
    expected_version: int | None,
    now: datetime,
    plan: Callable[[Article], Awaitable[dict[str, Any]]],
) -> Article:
    """Read, judge, and write only if nobody changed the article meanwhile (else judge again)."""
    for _ in range(MAX_ATTEMPTS):
        article = await load_article(actor, article_id)
        changes = await plan(article)
        if expected_version is not None and expected_version != article.version:
            raise _article_version_conflict(expected_version, article.version)
        async with in_transaction():
            updated = await Article.filter(id=article.id, version=article.version).update(
                **changes, version=article.version + 1, updated_at=now
            )
            if updated == 1:
                fresh = await Article.get(id=article.id)
                if {"title", "body", "keywords"} & set(changes):
                    await _reindex(fresh)
                return fresh
        if expected_version is not None:
            raise _article_version_conflict(expected_version, (await Article.get(id=article.id)).version)
    raise _article_version_conflict(expected_version or 0, (await Article.get(id=article_id)).version)


def _article_version_conflict(expected: int, actual: int) -> DomainError:
    return DomainError(
        ErrorCode.VERSION_CONFLICT,
        f"The article is at version {actual}, not {expected}; reload it and try again.",
        "expectedVersion",
    )


async def _reindex(article: Article) -> None:
    """Rewrite the article's search terms; call inside the transaction that wrote the article."""
    title = term_counts(article.title)
    body = term_counts(article.body)
    keywords = term_counts(" ".join(article.keywords or []))
    weights = {
        term: TITLE_WEIGHT * min(title[term], MAX_TITLE_COUNT)
        + KEYWORD_WEIGHT * min(keywords[term], 1)
        + min(body[term], MAX_BODY_COUNT)
        for term in set(title) | set(body) | set(keywords)
    }
    await ArticleTerm.filter(article_id=article.id).delete()
    await ArticleTerm.bulk_create(
        [ArticleTerm(article_id=article.id, term=term, weight=weight) for term, weight in sorted(weights.items())]
    )


def clean_keywords(values: Sequence[str]) -> list[str]:
    cleaned: list[str] = []
    for index, value in enumerate(values):
        keyword = clean_text(f"keywords.{index}", value, required=True, limit=KEYWORD_LIMIT)
        assert keyword is not None
        if keyword.lower() not in (k.lower() for k in cleaned):
            cleaned.append(keyword)
    if len(cleaned) > MAX_KEYWORDS:
        raise validation_failed("keywords", f"At most {MAX_KEYWORDS} keywords.")
    return cleaned


async def _case_type_id(code: str | None) -> int | None:
    if code is None:
        return None
    cleaned = clean_text("caseTypeCode", code, required=True, limit=64)
    case_type = await CaseType.get_or_none(code=cleaned)
    if case_type is None:
        raise validation_failed("caseTypeCode", "No case type has that code.")
    return case_type.id


# --- using articles on cases -------------------------------------------------------------------


async def link_article(
    *,
    actor: Actor,
    case_id: str,
    article_id: str,
    expected_version: int | None,
    now: datetime,
    publisher: Publisher,
    on_success: OnSuccess = None,
) -> ActionResult:
    """Link a published article to a case: one LINK_ARTICLE event, the link written with it.

    Staff of the case (assigned agent, manager, agents of its group) may link, in every
    submitted, non-terminal status; an article is linked to a case at most once.
    """
    for _ in range(MAX_ATTEMPTS):
        case = await load_visible_case(actor, case_id)
        if not relations_of(actor, case.parties()) & LINKING_RELATIONS:
            raise permission_denied("Only staff handling the case may link articles to it.")
        article = await _usable_article(actor, article_id)
        if await CaseArticleLink.exists(case_id=case.id, article_id=article.id):
            raise validation_failed("articleId", "That article is linked to the case already.")
        if expected_version is not None and expected_version != case.version:
            raise version_conflict(expected_version, case.version)
        if case.state not in lifecycle.SUBMITTED_NON_TERMINAL or case.deleted:
            raise transition_not_allowed(f"Articles cannot be linked to a case in {case.status.value}.")
        await check_transition(
            Transition(case=case, action=CaseAction.LINK_ARTICLE, target=case.state, actor=actor, now=now)
        )
        try:
            result = await commit_change(
                case=case,
                actor_id=actor.user_id,
                action=CaseAction.LINK_ARTICLE,
                event_type=CaseEventType.CASE_UPDATED,
                target=case.state,
                changes={},
                summary={"articleId": str(article.id)},
                now=now,
                side_effects=[_write_link(article.id, actor.user_id, now)],
                on_success=on_success,
            )
        except StaleCase:
            await refuse_if_pinned(actor=actor, case_id=case_id, expected_version=expected_version)
            continue
        await publisher.published([result.event])
        return result
    raise await retries_exhausted(actor=actor, case_id=case_id, expected_version=expected_version)


async def resolve_with_article(
    *,
    actor: Actor,
    case_id: str,
    article_id: str,
    expected_version: int | None,
    now: datetime,
    publisher: Publisher,
    on_success: OnSuccess = None,
) -> ActionResult:
    """PROPOSE_SOLUTION with code SOLVED and the article as resolution notes; links the article.

    The life-cycle table judges it exactly as ``proposeSolution`` (who, from which statuses);
    the link is written in the transaction of that one event (unless it was linked before).
    """
    case = await load_visible_case(actor, case_id)
    lifecycle.authorize(CaseAction.PROPOSE_SOLUTION, relations_of(actor, case.parties()), case.state)
    article = await _usable_article(actor, article_id)

    async def link_then(result: ActionResult) -> None:
        if not await CaseArticleLink.exists(case_id=result.case.id, article_id=article.id):
            await _write_link(article.id, actor.user_id, now)(result.case, result.event)
        if on_success is not None:
            await on_success(result)

    request = ActionRequest(
        action=CaseAction.PROPOSE_SOLUTION,
        case_id=case_id,
        expected_version=expected_version,
        command=ProposeSolution(resolution_code=ResolutionCode.SOLVED, resolution_notes=resolution_notes_from(article)),
    )
    return await perform(actor=actor, request=request, now=now, publisher=publisher, on_success=link_then)


def resolution_notes_from(article: Article) -> str:
    """The article as resolution notes: its title, a blank line, its body (cut to the text limit)."""
    head = f"{article.title}\n\n"
    body = article.body
    if len(head) + len(body) > TEXT_LIMIT:
        body = body[: TEXT_LIMIT - len(head) - 1].rstrip() + "…"
    return head + body


async def article_from_case(*, actor: Actor, case_id: str, title: str | None, now: datetime) -> Article:
    """A draft article from a solved case's resolution notes (staff handling the case)."""
    case = await load_visible_case(actor, case_id)
    if not rules.may_create(actor) or not relations_of(actor, case.parties()) & LINKING_RELATIONS:
        raise permission_denied("Only staff handling the case may turn its resolution into an article.")
    chosen = clean_title(title, required=False)
    if case.resolution_code not in SOLVED_CODES or not case.resolution_notes:
        raise transition_not_allowed("Only a case resolved as solved, with resolution notes, becomes an article.")
    case_type = await CaseType.get_or_none(id=case.case_type_id) if case.case_type_id is not None else None
    draft = ArticleDraft(
        title=chosen or case.title or f"Solution of {case.number}",
        body=case.resolution_notes,
        case_type_code=case_type.code if case_type is not None else None,
    )
    return await create_article(actor=actor, draft=draft, now=now, source_case_id=case.id)


async def _usable_article(actor: Actor, article_id: str) -> Article:
    cleaned = clean_text("articleId", article_id, required=True, limit=64)
    assert cleaned is not None
    article = await load_article(actor, cleaned, field="articleId")
    if article.status is not ArticleStatus.PUBLISHED:
        raise validation_failed("articleId", "Only published articles can be used on cases.")
    return article


def _write_link(article_id: Any, actor_id: str, now: datetime) -> Callable[[CaseRecord, EventRecord], Awaitable[None]]:
    async def write(case: CaseRecord, event: EventRecord) -> None:
        await CaseArticleLink.create(
            case_id=case.id,
            article_id=article_id,
            linked_by_id=actor_id,
            event_sequence=event.sequence,
            created_at=now,
        )

    return write
