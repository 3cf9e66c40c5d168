"""DataLoaders, built per request (per event for subscriptions): ``<Entity>By<Key>Loader``.

Each returns results in key order with None (or an empty list) for misses.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader

from casegraph.database import statements
from casegraph.domain.case_tree import SETTLED_STATUSES
from casegraph.domain.enums import CaseStage, TaskState
from casegraph.domain.relations import Actor
from casegraph.services.records import CASE_COLUMNS, CaseRecord
from casegraph.services.visibility import visible_cases
from models import (
    AssignmentGroup,
    Case,
    CaseStep,
    CaseTask,
    CaseType,
    Comment,
    GroupMembership,
    Playbook,
    Referral,
    ReferralDirection,
    ReferralStatus,
    Survey,
    User,
    WorkNote,
)


async def _by_id(model: Any, keys: Sequence[Any], key_field: str = "id") -> list[Any]:
    distinct = list(set(keys))
    if len(distinct) == 1:
        # One key (a mutation's payload, a case's assignee): a statement rendered once.
        rows = await statements.fetch(model, {key_field: distinct[0]})
    else:
        rows = await model.filter(**{f"{key_field}__in": distinct})
    found = {getattr(row, key_field): row for row in rows}
    return [found.get(key) for key in keys]


async def _grouped(model: Any, keys: Sequence[str], order: str) -> list[list[Any]]:
    rows = await model.filter(case_id__in=list(set(keys))).order_by(order)
    grouped: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[str(row.case_id)].append(row)
    return [grouped.get(key, []) for key in keys]


@dataclass
class Loaders:
    """One set per request; ``actor`` scopes the loaders that return cases.

    Each loader is made on first use (``__getattr__``): most requests use a few of them, and a
    query the compiled path answers (``casegraph/fastpath``) none.
    """

    actor: Actor | None
    user_by_id: DataLoader[str, User | None] = field(init=False)
    case_type_by_id: DataLoader[int, CaseType | None] = field(init=False)
    group_by_id: DataLoader[int, AssignmentGroup | None] = field(init=False)
    visible_case_by_id: DataLoader[str, CaseRecord | None] = field(init=False)
    open_task_count_by_case: DataLoader[str, int] = field(init=False)
    tasks_by_case: DataLoader[str, list[CaseTask]] = field(init=False)
    survey_by_case: DataLoader[str, Survey | None] = field(init=False)
    comments_by_case: DataLoader[str, list[Comment]] = field(init=False)
    work_notes_by_case: DataLoader[str, list[WorkNote]] = field(init=False)
    members_by_group: DataLoader[int, list[GroupMembership]] = field(init=False)

    extra: dict[str, DataLoader[Any, Any]] = field(init=False, default_factory=dict)

    def loader(self, key: str, factory: Callable[[], DataLoader[Any, Any]]) -> DataLoader[Any, Any]:
        """A feature's own loader, created once per request on first use."""
        if key not in self.extra:
            self.extra[key] = factory()
        return self.extra[key]

    if not TYPE_CHECKING:  # hidden from mypy, which would otherwise accept any attribute name

        def __getattr__(self, name: str) -> Any:
            """Called only for an attribute not set yet: a loader's first use makes it."""
            make = _LOADERS.get(name)
            if make is None:
                raise AttributeError(name)
            made = make(self)
            object.__setattr__(self, name, made)
            return made

    async def open_children_count(self, case_id: str) -> int:
        """Children of the case not yet resolved, closed or cancelled (deleted ones aside)."""
        loader = self.loader("open_children_by_case", lambda: DataLoader(_open_children))
        count: int = await loader.load(case_id)
        return count

    async def open_required_stages(self, case_id: str) -> frozenset[CaseStage]:
        """Stages of the case with required playbook steps still open."""
        loader = self.loader("open_required_stages_by_case", lambda: DataLoader(_open_required_stages))
        stages: frozenset[CaseStage] = await loader.load(case_id)
        return stages

    async def open_step_count(self, case_id: str) -> int:
        """Playbook steps of the case not ticked off yet, required or not."""
        loader = self.loader("open_steps_by_case", lambda: DataLoader(_open_steps))
        count: int = await loader.load(case_id)
        return count

    async def inbound_referral_status(self, case_id: str) -> ReferralStatus | None:
        """The status of the referral a partner sent this case to us with (None: not a referral)."""
        loader = self.loader("inbound_referral_by_case", lambda: DataLoader(_inbound_referral_statuses))
        status: ReferralStatus | None = await loader.load(case_id)
        return status

    async def playbook_enforced(self, case_type_id: int) -> bool:
        loader = self.loader("enforced_playbook_by_type", lambda: DataLoader(_enforced_playbooks))
        enforced: bool = await loader.load(case_type_id)
        return enforced

    async def _visible_cases(self, keys: Sequence[str]) -> list[CaseRecord | None]:
        if self.actor is None:
            return [None for _ in keys]
        rows = await visible_cases(self.actor).filter(id__in=list(set(keys))).values(*CASE_COLUMNS)
        found = {str(row["id"]): CaseRecord.from_row(row) for row in rows}
        return [found.get(key) for key in keys]

    async def _open_task_counts(self, keys: Sequence[str]) -> list[int]:
        rows = await CaseTask.filter(
            case_id__in=list(set(keys)), state__in=(TaskState.OPEN, TaskState.IN_PROGRESS)
        ).values_list("case_id", flat=True)
        counts: dict[str, int] = defaultdict(int)
        for case_id in rows:
            counts[str(case_id)] += 1
        return [counts.get(key, 0) for key in keys]

    async def _surveys(self, keys: Sequence[str]) -> list[Survey | None]:
        rows = await Survey.filter(case_id__in=list(set(keys)))
        found = {str(row.case_id): row for row in rows}
        return [found.get(key) for key in keys]

    async def _members(self, keys: Sequence[int]) -> list[list[GroupMembership]]:
        rows = await GroupMembership.filter(group_id__in=list(set(keys))).order_by("id")
        grouped: dict[int, list[GroupMembership]] = defaultdict(list)
        for row in rows:
            grouped[row.group_id].append(row)
        return [grouped.get(key, []) for key in keys]


async def _open_children(keys: Sequence[str]) -> list[int]:
    parents = await Case.filter(parent_id__in=list(set(keys)), deleted_at__isnull=True).exclude(
        status__in=list(SETTLED_STATUSES)
    ).values_list("parent_id", flat=True)
    counts: dict[str, int] = defaultdict(int)
    for parent in parents:
        counts[str(parent)] += 1
    return [counts.get(key, 0) for key in keys]


async def _open_required_stages(keys: Sequence[str]) -> list[frozenset[CaseStage]]:
    rows = await CaseStep.filter(case_id__in=list(set(keys)), required=True, done_at__isnull=True).values_list(
        "case_id", "stage"
    )
    stages: dict[str, set[CaseStage]] = defaultdict(set)
    for case_id, stage in rows:
        stages[str(case_id)].add(CaseStage(stage))
    return [frozenset(stages.get(key, ())) for key in keys]


async def _open_steps(keys: Sequence[str]) -> list[int]:
    rows = await CaseStep.filter(case_id__in=list(set(keys)), done_at__isnull=True).values_list("case_id", flat=True)
    counts: dict[str, int] = defaultdict(int)
    for case_id in rows:
        counts[str(case_id)] += 1
    return [counts.get(key, 0) for key in keys]


async def _inbound_referral_statuses(keys: Sequence[str]) -> list[ReferralStatus | None]:
    rows = await Referral.filter(case_id__in=list(set(keys)), direction=ReferralDirection.INBOUND).values_list(
        "case_id", "status")
    found = {str(case_id): ReferralStatus(status) for case_id, status in rows}
    return [found.get(key) for key in keys]


async def _enforced_playbooks(keys: Sequence[int]) -> list[bool]:
    rows = await Playbook.filter(case_type_id__in=list(set(keys)), enforce_required_steps=True).values_list(
        "case_type_id", flat=True
    )
    enforced = {int(row) for row in rows}  # type: ignore[call-overload]
    return [key in enforced for key in keys]


_LOADERS: dict[str, Callable[[Loaders], DataLoader[Any, Any]]] = {
    "user_by_id": lambda _: DataLoader(lambda keys: _by_id(User, keys)),
    "case_type_by_id": lambda _: DataLoader(lambda keys: _by_id(CaseType, keys)),
    "group_by_id": lambda _: DataLoader(lambda keys: _by_id(AssignmentGroup, keys)),
    "visible_case_by_id": lambda loaders: DataLoader(loaders._visible_cases),
    "open_task_count_by_case": lambda loaders: DataLoader(loaders._open_task_counts),
    "tasks_by_case": lambda _: DataLoader(lambda keys: _grouped(CaseTask, keys, "id")),
    "survey_by_case": lambda loaders: DataLoader(loaders._surveys),
    "comments_by_case": lambda _: DataLoader(lambda keys: _grouped(Comment, keys, "id")),
    "work_notes_by_case": lambda _: DataLoader(lambda keys: _grouped(WorkNote, keys, "id")),
    "members_by_group": lambda loaders: DataLoader(loaders._members),
}
