"""Knowledge base: articles, their search, and using them on cases (``linkArticle``,
``resolveWithArticle``, ``createArticleFromCase``), resolved by ``resolvers/articles.py``. Rules:
``casegraph/domain/knowledge.py``."""

from __future__ import annotations

import strawberry

from resolvers import articles
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
from schema.payloads import ArticlePayload, CasePayload
from schema.types.articles import ArticleConnection
from schema.types.case import Article


@strawberry.type
class KnowledgeQuery:
    @strawberry.field(description="An article the viewer may read, by id.")
    async def article(self, info: Info, id: strawberry.ID) -> Article | None:
        return await articles.article(info, id)

    @strawberry.field(
        description="Articles the viewer may read; with `filter.search`, ranked by relevance. `first` is at most 100 (more is refused: VALIDATION_FAILED)."
    )
    async def articles(
        self, info: Info, filter: ArticleFilterInput | None = None, first: int | None = None, after: str | None = None
    ) -> ArticleConnection:
        return await articles.articles(info, filter, first, after)

    @strawberry.field(
        description=(
            "Published articles for the words of `text`, most words matched first: what the portal offers "
            "while a request is typed. Drafts never, whoever asks. `first`: 3 by default, at most 10. "
            "Bounded: a few words, each reading a few of its heaviest rows from an index."
        )
    )
    async def suggested_articles(self, info: Info, text: str, first: int | None = None) -> list[Article]:
        return await articles.suggested_articles(info, text, first)


@strawberry.type
class KnowledgeMutation:
    @strawberry.mutation(description="Write a draft article (AGENT, MANAGER, ADMIN).")
    async def create_article(self, info: Info, input: CreateArticleInput) -> ArticlePayload:
        return await articles.create_article(info, input)

    @strawberry.mutation(description="Edit an article: agents their own drafts, managers and admins any article.")
    async def update_article(self, info: Info, input: UpdateArticleInput) -> ArticlePayload:
        return await articles.update_article(info, input)

    @strawberry.mutation(description="Publish a draft: everyone can read it then (MANAGER, ADMIN).")
    async def publish_article(self, info: Info, input: PublishArticleInput) -> ArticlePayload:
        return await articles.publish_article(info, input)

    @strawberry.mutation(description="Take a published article back to draft (MANAGER, ADMIN).")
    async def unpublish_article(self, info: Info, input: UnpublishArticleInput) -> ArticlePayload:
        return await articles.unpublish_article(info, input)

    @strawberry.mutation(description="A draft article from a solved case's resolution (staff handling the case).")
    async def create_article_from_case(self, info: Info, input: CreateArticleFromCaseInput) -> ArticlePayload:
        return await articles.create_article_from_case(info, input)

    @strawberry.mutation(description="Link a published article to a case (staff handling it); a LINK_ARTICLE event.")
    async def link_article(self, info: Info, input: LinkArticleInput) -> CasePayload:
        return await articles.link_article(info, input)

    @strawberry.mutation(
        description="proposeSolution with code SOLVED and the article's text as resolution notes; "
        "links the article. Same rules as proposeSolution."
    )
    async def resolve_with_article(self, info: Info, input: ResolveWithArticleInput) -> CasePayload:
        return await articles.resolve_with_article(info, input)
