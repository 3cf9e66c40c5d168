"""Helping themselves (issue 17): what a constituent read while writing a new request, and whether
they filed it. The rules are ``casegraph/domain/self_service.py``; the deflection figure that
counts these rows is ``casegraph/services/analytics_deflection.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from casegraph.domain.self_service import DraftOutcome

if TYPE_CHECKING:
    from models.knowledge import Article
    from models.user import User


class SelfServiceDraft(Model):
    """One opening of the portal's filing form by a constituent (``draft_key`` is drawn by the browser).

    ``case_type_id`` and ``assignment_group_id`` are the service's when the session began: the
    analytics scope (groups, case types) selects sessions by them, as it selects cases.
    ``last_step_at`` is when it last changed: the time the analytics period bounds.
    """

    id = fields.UUIDField(primary_key=True)
    requester: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="self_service_drafts", on_delete=fields.RESTRICT
    )
    draft_key = fields.UUIDField()
    case_type_id = fields.IntField()
    assignment_group_id = fields.IntField()
    started_at = fields.DatetimeField()
    last_step_at = fields.DatetimeField(db_index=True)
    outcome = fields.CharEnumField(DraftOutcome, max_length=16, null=True)
    # The case filed at the end, if any.
    case_id = fields.UUIDField(null=True)

    requester_id: str

    class Meta:
        table = "self_service_drafts"
        unique_together = (("requester", "draft_key"),)


class SelfServiceRead(Model):
    """A published article opened during a draft session (once per article and session)."""

    id = fields.BigIntField(primary_key=True)
    draft: fields.ForeignKeyRelation[SelfServiceDraft] = fields.ForeignKeyField(
        "models.SelfServiceDraft", related_name="reads", on_delete=fields.CASCADE
    )
    article: fields.ForeignKeyRelation[Article] = fields.ForeignKeyField(
        "models.Article", related_name="self_service_reads", on_delete=fields.CASCADE
    )
    read_at = fields.DatetimeField()

    draft_id: Any
    article_id: Any

    class Meta:
        table = "self_service_reads"
        unique_together = (("draft", "article"),)
