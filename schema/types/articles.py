"""Pages of knowledge-base articles (``Article`` itself lives with ``Case``, which it points back at)."""

from __future__ import annotations

import strawberry

from schema.types.case import Article
from schema.types.common import PageInfo


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
