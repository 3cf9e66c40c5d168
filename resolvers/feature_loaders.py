"""The feature fields' loaders (case tree, duplicates, intake, knowledge, playbooks, SLA, codes).

Same mechanism as ``resolvers/loaders.py``: one class per kind, ``info.context.loaders[Kind]``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from casegraph.domain.enums import CaseStatus, ResolutionCode, Workflow
from casegraph.domain.intake import CaseField
from casegraph.services import intake, knowledge, sla_config
from casegraph.services.records import CASE_COLUMNS, CaseRecord
from casegraph.services.sla_config import CaseTypeSla
from casegraph.services.visibility import visible_cases
from models import Article, AssignmentGroup, Case, CaseStep, CaseTemplate, CaseTimer, CaseType, Playbook
from resolvers.loaders import Loader


async def _by_code(model: Any, keys: Sequence[str]) -> list[Any]:
    rows = await model.filter(code__in=list(set(keys)))
    found = {row.code: row for row in rows}
    return [found.get(key) for key in keys]


class CaseTypeByCode(Loader[str, "CaseType | None"]):
    async def batch(self, keys: Sequence[str]) -> list[CaseType | None]:
        return await _by_code(CaseType, keys)


class GroupByCode(Loader[str, "AssignmentGroup | None"]):
    async def batch(self, keys: Sequence[str]) -> list[AssignmentGroup | None]:
        return await _by_code(AssignmentGroup, keys)


class ChildrenByParent(Loader[str, "list[tuple[str, CaseStatus]]"]):
    """(id, status) of each parent's children, oldest first; deleted children left out."""

    async def batch(self, keys: Sequence[str]) -> list[list[tuple[str, CaseStatus]]]:
        rows = (
            await Case.filter(parent_id__in=list(set(keys)), deleted_at__isnull=True)
            .order_by("created_at", "number")
            .values("id", "parent_id", "status")
        )
        grouped: dict[str, list[tuple[str, CaseStatus]]] = defaultdict(list)
        for row in rows:
            grouped[str(row["parent_id"])].append((str(row["id"]), CaseStatus(row["status"])))
        return [grouped.get(key, []) for key in keys]


class DuplicatesByCase(Loader[str, "list[CaseRecord]"]):
    """The viewer's visible cases resolved as duplicates of each case, oldest first."""

    async def batch(self, keys: Sequence[str]) -> list[list[CaseRecord]]:
        actor = self.actor
        if actor is None:
            return [[] for _ in keys]
        rows = await (
            visible_cases(actor)
            .filter(duplicate_of_id__in=list(set(keys)), resolution_code=ResolutionCode.DUPLICATE)
            .order_by("created_at", "id")
            .values(*CASE_COLUMNS)
        )
        found: dict[str, list[CaseRecord]] = defaultdict(list)
        for row in rows:
            record = CaseRecord.from_row(row)
            found[str(record.duplicate_of_id)].append(record)
        return [found.get(key, []) for key in keys]


class TemplateById(Loader[int, "CaseTemplate | None"]):
    async def batch(self, keys: Sequence[int]) -> list[CaseTemplate | None]:
        rows = {row.id: row for row in await CaseTemplate.filter(id__in=list(set(keys)))}
        return [rows.get(key) for key in keys]


class RequiredFieldsByCaseType(Loader[int, "tuple[CaseField, ...]"]):
    async def batch(self, keys: Sequence[int]) -> list[tuple[CaseField, ...]]:
        found = await intake.required_fields_of_types(keys)
        return [found.get(key, ()) for key in keys]


class LinkedArticlesByCase(Loader[str, "list[Article]"]):
    """The articles linked to each case that the viewer may read."""

    async def batch(self, keys: Sequence[str]) -> list[list[Article]]:
        actor = self.actor
        if actor is None:
            return [[] for _ in keys]
        found = await knowledge.articles_linked_to(actor, keys)
        return [found.get(key, []) for key in keys]


class StepsByCase(Loader[str, "list[CaseStep]"]):
    async def batch(self, keys: Sequence[str]) -> list[list[CaseStep]]:
        grouped: dict[str, list[CaseStep]] = defaultdict(list)
        for row in await CaseStep.filter(case_id__in=list(set(keys))).order_by("position", "id"):
            grouped[str(row.case_id)].append(row)
        return [grouped.get(key, []) for key in keys]


class PlaybookByCaseType(Loader[int, "Playbook | None"]):
    async def batch(self, keys: Sequence[int]) -> list[Playbook | None]:
        rows = {row.case_type_id: row for row in await Playbook.filter(case_type_id__in=list(set(keys)))}
        return [rows.get(key) for key in keys]


class TimersByCase(Loader[str, "list[CaseTimer]"]):
    async def batch(self, keys: Sequence[str]) -> list[list[CaseTimer]]:
        grouped: dict[str, list[CaseTimer]] = defaultdict(list)
        for row in await CaseTimer.filter(case_id__in=list(set(keys))).order_by("kind"):
            grouped[str(row.case_id)].append(row)
        return [grouped.get(key, []) for key in keys]


class SlaConfigByCaseType(Loader["tuple[int | None, str]", CaseTypeSla]):
    async def batch(self, keys: Sequence[tuple[int | None, str]]) -> list[CaseTypeSla]:
        return [await sla_config.case_type_sla(type_id, Workflow(workflow)) for type_id, workflow in keys]
