from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from casegraph.domain.knowledge import ArticleStatus

if TYPE_CHECKING:
    from models.case import Case
    from models.case_type import CaseType
    from models.user import User


class Article(Model):
    """A knowledge-base article. ``version`` is bumped by exactly one per change (optimistic lock)."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    status = fields.CharEnumField(ArticleStatus, max_length=16, db_index=True)
    case_type: fields.ForeignKeyNullableRelation[CaseType] = fields.ForeignKeyField(
        "models.CaseType", related_name="articles", null=True, on_delete=fields.RESTRICT
    )
    keywords: fields.Field[list[str]] = fields.JSONField(default=list)
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="authored_articles", on_delete=fields.RESTRICT
    )
    # The resolved case an agent turned into this article, if any.
    source_case: fields.ForeignKeyNullableRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="source_of_articles", null=True, on_delete=fields.RESTRICT
    )
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField(db_index=True)
    published_at = fields.DatetimeField(null=True)
    published_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="published_articles", null=True, on_delete=fields.RESTRICT
    )

    case_type_id: int | None
    author_id: str
    source_case_id: Any
    published_by_id: str | None

    class Meta:
        table = "kb_articles"


class ArticleTerm(Model):
    """The search index: one row per (article, word stem), weighted by where and how often it occurs.

    Rewritten with the article in the same transaction, so search never sees a stale index.
    """

    id = fields.BigIntField(primary_key=True)
    article: fields.ForeignKeyRelation[Article] = fields.ForeignKeyField(
        "models.Article", related_name="terms", on_delete=fields.CASCADE
    )
    term = fields.CharField(max_length=64, db_index=True)
    weight = fields.IntField()

    article_id: Any

    class Meta:
        table = "kb_article_terms"
        unique_together = (("article", "term"),)
        # The portal's suggestions read a word's heaviest rows first and stop after a few.
        indexes = (("term", "weight"),)


class CaseArticleLink(Model):
    """An article linked to a case, written with the case event that recorded it."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="article_links", on_delete=fields.RESTRICT
    )
    article: fields.ForeignKeyRelation[Article] = fields.ForeignKeyField(
        "models.Article", related_name="case_links", on_delete=fields.RESTRICT
    )
    linked_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="article_links", on_delete=fields.RESTRICT
    )
    event_sequence = fields.BigIntField()
    created_at = fields.DatetimeField()

    case_id: Any
    article_id: Any
    linked_by_id: str

    class Meta:
        table = "case_article_links"
        unique_together = (("case", "article"),)
