"""SLA policies and settings per case type, and per-case timer and alert state.

All timer state lives here, so a restarted server (or any one of several) picks up where the
last evaluation left off. At-most-once firing is enforced by the database: a threshold is marked
fired with a conditional UPDATE (``… WHERE warned_50_at IS NULL``) in the transaction that
records its event, and an alert likewise (``… WHERE fired_at IS NULL``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from casegraph.domain.sla import Phase, TimerKind

if TYPE_CHECKING:
    from models.case import Case
    from models.case_type import CaseType


class SlaPolicy(Model):
    """Targets for cases of one case type and priority. a null target means no timer of that kind."""

    id = fields.IntField(primary_key=True)
    case_type: fields.ForeignKeyRelation[CaseType] = fields.ForeignKeyField(
        "models.CaseType", related_name="sla_policies", on_delete=fields.CASCADE
    )
    priority = fields.SmallIntField()
    response_minutes = fields.IntField(null=True)
    resolution_minutes = fields.IntField(null=True)
    updated_at = fields.DatetimeField()

    case_type_id: int

    class Meta:
        table = "sla_policies"
        unique_together = (("case_type", "priority"),)


class SlaSettings(Model):
    """A case type's alert settings and business hours. a null value means the default."""

    id = fields.IntField(primary_key=True)
    case_type: fields.OneToOneRelation[CaseType] = fields.OneToOneField(
        "models.CaseType", related_name="sla_settings", on_delete=fields.CASCADE
    )
    dwell_intake_minutes = fields.IntField(null=True)
    dwell_review_minutes = fields.IntField(null=True)
    dwell_process_minutes = fields.IntField(null=True)
    dwell_decision_minutes = fields.IntField(null=True)
    unanswered_comment_minutes = fields.IntField(null=True)
    auto_close_enabled = fields.BooleanField(default=False)
    auto_close_reminder_minutes = fields.IntField(null=True)
    auto_close_minutes = fields.IntField(null=True)
    # {"timezone", "windows": [{"weekday", "start", "end"}], "holidays": [date]}; null: 24 × 7.
    business_hours: fields.Field[dict[str, Any] | None] = fields.JSONField(null=True)
    updated_at = fields.DatetimeField()

    case_type_id: int

    class Meta:
        table = "sla_settings"


class CaseTimer(Model):
    """One SLA clock of one case, kept up to date by a change hook on every recorded event.

    ``elapsed_us`` is the working time counted before ``running_since`` (set while running).
    ``next_due_at`` is when the next unfired threshold is reached if nothing changes, which is
    what the evaluator scans for.
    """

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="sla_timers", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(TimerKind, max_length=16)
    target_minutes = fields.IntField()
    elapsed_us = fields.BigIntField(default=0)
    running_since = fields.DatetimeField(null=True)
    phase = fields.CharEnumField(Phase, max_length=16)
    started_at = fields.DatetimeField()
    stopped_at = fields.DatetimeField(null=True)
    warned_50_at = fields.DatetimeField(null=True)
    warned_75_at = fields.DatetimeField(null=True)
    breached_at = fields.DatetimeField(null=True)
    next_due_at = fields.DatetimeField(null=True, db_index=True)

    case_id: Any

    class Meta:
        table = "case_timers"
        unique_together = (("case", "kind"),)


class CaseAlert(Model):
    """A wall-clock alert of one case (stage dwell, unanswered comment, auto-close reminder or
    close). Rows are deleted when the alert no longer applies. ``fired_at`` marks one that fired
    (``outcome`` FIRED) or was found moot when due (SKIPPED)."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="sla_alerts", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=32)
    key = fields.CharField(max_length=64)
    due_at = fields.DatetimeField(db_index=True)
    fired_at = fields.DatetimeField(null=True)
    outcome = fields.CharField(max_length=16, null=True)
    created_at = fields.DatetimeField()

    case_id: Any

    class Meta:
        table = "case_alerts"
        unique_together = (("case", "kind", "key"),)
