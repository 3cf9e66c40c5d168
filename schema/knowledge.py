"""Knowledge base: articles, their search, and using them on cases (``linkArticle``,
``resolveWithArticle``, ``createArticleFromCase``). Rules: ``casegraph/domain/knowledge.py``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

import strawberry

from casegraph.domain.knowledge import ArticleStatus
from casegraph.domain.relations import Actor
from casegraph.services import knowledge
from models import Article as ArticleRow
from resolvers.pipeline import hidden_as_none, refusals_as_errors, run_case_change, run_mutation
from schema.context import Info
from schema.inputs import EXPECTED_VERSION, CaseActionInput
from schema.payloads import CasePayload, case_payload, refused
from schema.types.case import Article
from schema.types.common import PageInfo, UserError



@strawberry.type
class ArticleEdge:
    cursor: str
    node: Article
    relevance: float | None = strawberry.field(
        description="When searching: the number of query words matched, plus a fraction (< 1) growing with "
        "how often and where (title, keywords) they occur and how rare they are. Higher ranks first."
    )


@strawberry.type(description="A page of articles.")
class ArticleConnection:
    edges: list[ArticleEdge]
    page_info: PageInfo
    total_count: int


@strawberry.input(description="All given conditions must hold.")
class ArticleFilterInput:
    search: str | None = strawberry.field(
        default=None, description="Words to find in title, body and keywords; ranks the results by relevance."
    )
    status: ArticleStatus | None = None
    case_type_code: str | None = None
    author_id: strawberry.ID | None = None


@strawberry.input(description="Write a new article; it starts as a DRAFT.")
class CreateArticleInput:
    title: str
    body: str
    case_type_code: str | None = None
    keywords: list[str] | None = None


@strawberry.input(description="Change an article; omitted fields stay as they are.")
class UpdateArticleInput:
    article_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION)
    title: str | None = None
    body: str | None = None
    case_type_code: str | None = None
    clear_case_type: bool = strawberry.field(default=False, description="Detach the article from its case type.")
    keywords: list[str] | None = strawberry.field(default=None, description="Replaces the keywords.")


@strawberry.input
class PublishArticleInput:
    article_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION)


@strawberry.input
class UnpublishArticleInput:
    article_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION)


@strawberry.input(description="Turn a solved case's resolution notes into a draft article.")
class CreateArticleFromCaseInput:
    case_id: strawberry.ID
    title: str | None = strawberry.field(default=None, description="Defaults to the case's title.")


@strawberry.input
class LinkArticleInput(CaseActionInput):
    article_id: strawberry.ID


@strawberry.input(description="Propose a solution (code SOLVED) whose resolution notes are the article's text.")
class ResolveWithArticleInput(CaseActionInput):
    article_id: strawberry.ID


@strawberry.type(description="The result of an article mutation.")
class ArticlePayload:
    article: Article | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class KnowledgeQuery:
    @strawberry.field(description="An article the viewer may read, by id.")
    async def article(self, info: Info, id: strawberry.ID) -> Article | None:
        actor = info.context.require_actor()
        row = await hidden_as_none(knowledge.load_article(actor, str(id)))
        return None if row is None else Article.from_row(row)

    @strawberry.field(description="Articles the viewer may read; with `filter.search`, ranked by relevance. "
                      "`first` is capped at 100.")
    async def articles(
        self, info: Info, filter: ArticleFilterInput | None = None, first: int | None = None, after: str | None = None
    ) -> ArticleConnection:
        actor = info.context.require_actor()
        flt = filter or ArticleFilterInput()
        with refusals_as_errors():
            page = await knowledge.search_articles(
                actor=actor,
                flt=knowledge.ArticleFilter(
                    search=flt.search, status=flt.status, case_type_code=flt.case_type_code,
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
                has_next_page=page.has_next, has_previous_page=page.has_previous,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
            total_count=page.total,
        )


async def _article_payload(info: Info, call: Callable[[Actor], Awaitable[ArticleRow]]) -> ArticlePayload:
    return await run_mutation(
        info, refused=refused(ArticlePayload), call=call,
        done=lambda row: ArticlePayload(article=Article.from_row(row)),
    )


@strawberry.type
class KnowledgeMutation:
    @strawberry.mutation(description="Write a draft article (AGENT, MANAGER, ADMIN).")
    async def create_article(self, info: Info, input: CreateArticleInput) -> ArticlePayload:
        draft = knowledge.ArticleDraft(
            title=input.title, body=input.body, case_type_code=input.case_type_code, keywords=input.keywords
        )
        return await _article_payload(
            info, lambda actor: knowledge.create_article(actor=actor, draft=draft, now=info.context.clock())
        )

    @strawberry.mutation(description="Edit an article: agents their own drafts, managers and admins any article.")
    async def update_article(self, info: Info, input: UpdateArticleInput) -> ArticlePayload:
        draft = knowledge.ArticleDraft(
            title=input.title, body=input.body, case_type_code=input.case_type_code,
            clear_case_type=input.clear_case_type, keywords=input.keywords,
        )
        return await _article_payload(info, lambda actor: knowledge.update_article(
            actor=actor, article_id=str(input.article_id), draft=draft, expected_version=input.expected_version,
            now=info.context.clock(),
        ))

    @strawberry.mutation(description="Publish a draft: everyone can read it then (MANAGER, ADMIN).")
    async def publish_article(self, info: Info, input: PublishArticleInput) -> ArticlePayload:
        return await _article_payload(info, lambda actor: knowledge.publish_article(
            actor=actor, article_id=str(input.article_id), expected_version=input.expected_version,
            now=info.context.clock(),
        ))

    @strawberry.mutation(description="Take a published article back to draft (MANAGER, ADMIN).")
    async def unpublish_article(self, info: Info, input: UnpublishArticleInput) -> ArticlePayload:
        return await _article_payload(info, lambda actor: knowledge.unpublish_article(
            actor=actor, article_id=str(input.article_id), expected_version=input.expected_version,
            now=info.context.clock(),
        ))

    @strawberry.mutation(description="A draft article from a solved case's resolution (staff handling the case).")
    async def create_article_from_case(self, info: Info, input: CreateArticleFromCaseInput) -> ArticlePayload:
        return await _article_payload(info, lambda actor: knowledge.article_from_case(
            actor=actor, case_id=str(input.case_id), title=input.title, now=info.context.clock()
        ))

    @strawberry.mutation(description="Link a published article to a case (staff handling it); a LINK_ARTICLE event.")
    async def link_article(self, info: Info, input: LinkArticleInput) -> CasePayload:
        change = partial(
            knowledge.link_article,
            case_id=str(input.case_id), article_id=str(input.article_id), expected_version=input.expected_version,
        )
        return await run_case_change(
            info, "linkArticle", input, refused=refused(CasePayload), change=change, done=case_payload
        )

    @strawberry.mutation(description="proposeSolution with code SOLVED and the article's text as resolution notes; "
                         "links the article. Same rules as proposeSolution.")
    async def resolve_with_article(self, info: Info, input: ResolveWithArticleInput) -> CasePayload:
        change = partial(
            knowledge.resolve_with_article,
            case_id=str(input.case_id), article_id=str(input.article_id), expected_version=input.expected_version,
        )
        return await run_case_change(
            info, "resolveWithArticle", input, refused=refused(CasePayload), change=change, done=case_payload
        )
