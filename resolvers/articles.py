"""The knowledge base's queries and mutations: articles, their search, and using them on cases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

import strawberry

from casegraph.domain.relations import Actor
from casegraph.services import knowledge
from models import Article as ArticleRow
from resolvers.pipeline import hidden_as_none, refusals_as_errors, run_case_change, run_mutation
from schema.context import Info
from schema.inputs import (
    ArticleFilterInput,
    CreateArticleFromCaseInput,
    CreateArticleInput,
    LinkArticleInput,
    PublishArticleInput,
    ResolveWithArticleInput,
    UnpublishArticleInput,
    UpdateArticleInput,
)
from schema.payloads import ArticlePayload, CasePayload, case_payload, refused
from schema.types.articles import ArticleConnection, ArticleEdge
from schema.types.case import Article
from schema.types.common import PageInfo


async def article(info: Info, id: strawberry.ID) -> Article | None:
    actor = info.context.require_actor()
    row = await hidden_as_none(knowledge.load_article(actor, str(id)))
    return None if row is None else Article.from_row(row)


async def articles(
    info: Info, filter: ArticleFilterInput | None, first: int | None, after: str | None
) -> ArticleConnection:
    actor = info.context.require_actor()
    flt = filter or ArticleFilterInput()
    with refusals_as_errors():
        page = await knowledge.search_articles(
            actor=actor,
            flt=knowledge.ArticleFilter(
                search=flt.search,
                status=flt.status,
                case_type_code=flt.case_type_code,
                author_id=None if flt.author_id is None else str(flt.author_id),
            ),
            first=first,
            after=after,
            max_page=info.context.max_page_size,
        )
    edges = [
        ArticleEdge(cursor=c, node=Article.from_row(a), relevance=s)
        for a, s, c in zip(page.articles, page.scores, page.cursors)
    ]
    return ArticleConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        total_count=page.total,
    )


async def suggested_articles(info: Info, text: str, first: int | None) -> list[Article]:
    info.context.require_actor()
    with refusals_as_errors():
        rows = await knowledge.suggest_articles(text=text, first=first)
    return [Article.from_row(row) for row in rows]


async def create_article(info: Info, input: CreateArticleInput) -> ArticlePayload:
    draft = knowledge.ArticleDraft(
        title=input.title, body=input.body, case_type_code=input.case_type_code, keywords=input.keywords
    )
    return await _article_payload(
        info, lambda actor: knowledge.create_article(actor=actor, draft=draft, now=info.context.clock())
    )


async def update_article(info: Info, input: UpdateArticleInput) -> ArticlePayload:
    draft = knowledge.ArticleDraft(
        title=input.title,
        body=input.body,
        case_type_code=input.case_type_code,
        clear_case_type=input.clear_case_type,
        keywords=input.keywords,
    )
    return await _article_payload(
        info,
        lambda actor: knowledge.update_article(
            actor=actor,
            article_id=str(input.article_id),
            draft=draft,
            expected_version=input.expected_version,
            now=info.context.clock(),
        ),
    )


async def publish_article(info: Info, input: PublishArticleInput) -> ArticlePayload:
    return await _article_payload(
        info,
        lambda actor: knowledge.publish_article(
            actor=actor,
            article_id=str(input.article_id),
            expected_version=input.expected_version,
            now=info.context.clock(),
        ),
    )


async def unpublish_article(info: Info, input: UnpublishArticleInput) -> ArticlePayload:
    return await _article_payload(
        info,
        lambda actor: knowledge.unpublish_article(
            actor=actor,
            article_id=str(input.article_id),
            expected_version=input.expected_version,
            now=info.context.clock(),
        ),
    )


async def create_article_from_case(info: Info, input: CreateArticleFromCaseInput) -> ArticlePayload:
    return await _article_payload(
        info,
        lambda actor: knowledge.article_from_case(
            actor=actor, case_id=str(input.case_id), title=input.title, now=info.context.clock()
        ),
    )


async def link_article(info: Info, input: LinkArticleInput) -> CasePayload:
    change = partial(
        knowledge.link_article,
        case_id=str(input.case_id),
        article_id=str(input.article_id),
        expected_version=input.expected_version,
    )
    return await run_case_change(
        info, "linkArticle", input, refused=refused(CasePayload), change=change, done=case_payload
    )


async def resolve_with_article(info: Info, input: ResolveWithArticleInput) -> CasePayload:
    change = partial(
        knowledge.resolve_with_article,
        case_id=str(input.case_id),
        article_id=str(input.article_id),
        expected_version=input.expected_version,
    )
    return await run_case_change(
        info, "resolveWithArticle", input, refused=refused(CasePayload), change=change, done=case_payload
    )


async def _article_payload(info: Info, call: Callable[[Actor], Awaitable[ArticleRow]]) -> ArticlePayload:
    return await run_mutation(
        info,
        refused=refused(ArticlePayload),
        call=call,
        done=lambda row: ArticlePayload(article=Article.from_row(row)),
    )
