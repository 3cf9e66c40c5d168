"""``Case.linkedArticles``: the rows, for the schema's ``Article`` to wrap."""

from __future__ import annotations

from models import Article as ArticleRow
from resolvers.feature_loaders import LinkedArticlesByCase
from schema.context import Info


async def linked_articles(info: Info, case_id: str) -> list[ArticleRow]:
    """For a case the viewer sees, the linked articles they may read, in link order."""
    info.context.require_actor()  # only signed-in viewers: the loader scopes by them
    return list(await info.context.loaders[LinkedArticlesByCase].load(case_id))
