"""DataLoaders, one class per kind (``<Entity>By<Key>``), made once per request on first use.

Each returns results in key order with None (or an empty list) for misses.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Generic, TypeVar, cast

from strawberry.dataloader import DataLoader

from casegraph.database import statements
from casegraph.domain.case_tree import SETTLED_STATUSES
from casegraph.domain.enums import CaseStage, TaskState
from casegraph.domain.relations import Actor
from casegraph.services.attachments import attachments_of_cases, attachments_of_notes
from casegraph.services.records import CASE_COLUMNS, CaseRecord
from casegraph.services.visibility import visible_cases
from models import (
    AssignmentGroup,
    Attachment,
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


K = TypeVar("K")
V = TypeVar("V")


class Loader(Generic[K, V]):
    """One kind of batch load, keyed by ``K``: ``loaders[Kind]`` is its DataLoader for the request.

    A kind that scopes by the viewer reads ``self.actor`` when it runs (the fan-out records that
    read: casegraph/fanout/viewer_reads.py); the others never touch the viewer.
    """

    def __init__(self, loaders: Loaders) -> None:
        self._loaders = loaders

    @property
    def actor(self) -> Actor | None:
        return self._loaders.actor

    async def batch(self, keys: Sequence[K]) -> list[V]:
        raise NotImplementedError


class Loaders:
    """One set per request (per operation on a socket); ``actor`` scopes the loaders that return cases.

    Each kind is made on first use: most requests use a few of them, and a query the compiled
    path answers (``casegraph/fastpath``) none.
    """

    def __init__(self, actor: Actor | None) -> None:
        self.actor = actor
        self._made: dict[type[Loader[Any, Any]], DataLoader[Any, Any]] = {}

    def __getitem__(self, kind: type[Loader[K, V]]) -> DataLoader[K, V]:
        made = self._made.get(kind)
        if made is None:
            made = self._made[kind] = DataLoader(kind(self).batch)
        return cast("DataLoader[K, V]", made)


class UserById(Loader[str, "User | None"]):
    async def batch(self, keys: Sequence[str]) -> list[User | None]:
        return await _by_id(User, keys)


class CaseTypeById(Loader[int, "CaseType | None"]):
    async def batch(self, keys: Sequence[int]) -> list[CaseType | None]:
        return await _by_id(CaseType, keys)


class GroupById(Loader[int, "AssignmentGroup | None"]):
    async def batch(self, keys: Sequence[int]) -> list[AssignmentGroup | None]:
        return await _by_id(AssignmentGroup, keys)


class VisibleCaseById(Loader[str, "CaseRecord | None"]):
    """Cases the viewer may see; None for the others, as for missing ones."""

    async def batch(self, keys: Sequence[str]) -> list[CaseRecord | None]:
        actor = self.actor
        if actor is None:
            return [None for _ in keys]
        rows = await visible_cases(actor).filter(id__in=list(set(keys))).values(*CASE_COLUMNS)
        found = {str(row["id"]): CaseRecord.from_row(row) for row in rows}
        return [found.get(key) for key in keys]


class OpenTaskCountByCase(Loader[str, int]):
    async def batch(self, keys: Sequence[str]) -> list[int]:
        rows = await CaseTask.filter(
            case_id__in=list(set(keys)), state__in=(TaskState.OPEN, TaskState.IN_PROGRESS)
        ).values_list("case_id", flat=True)
        counts: dict[str, int] = defaultdict(int)
        for case_id in rows:
            counts[str(case_id)] += 1
        return [counts.get(key, 0) for key in keys]


class TasksByCase(Loader[str, "list[CaseTask]"]):
    async def batch(self, keys: Sequence[str]) -> list[list[CaseTask]]:
        return await _grouped(CaseTask, keys, "id")


class SurveyByCase(Loader[str, "Survey | None"]):
    async def batch(self, keys: Sequence[str]) -> list[Survey | None]:
        rows = await Survey.filter(case_id__in=list(set(keys)))
        found = {str(row.case_id): row for row in rows}
        return [found.get(key) for key in keys]


class CommentsByCase(Loader[str, "list[Comment]"]):
    async def batch(self, keys: Sequence[str]) -> list[list[Comment]]:
        return await _grouped(Comment, keys, "id")


class WorkNotesByCase(Loader[str, "list[WorkNote]"]):
    async def batch(self, keys: Sequence[str]) -> list[list[WorkNote]]:
        return await _grouped(WorkNote, keys, "id")


class AttachmentsByCase(Loader[str, "list[Attachment]"]):
    """Live files of cases already shown to the viewer; internal ones only for staff."""

    async def batch(self, keys: Sequence[str]) -> list[list[Attachment]]:
        actor = self.actor
        if actor is None:
            return [[] for _ in keys]
        grouped = await attachments_of_cases(actor, keys)
        return [grouped.get(key, []) for key in keys]


# A note is ("comment", id) or ("work_note", id): the two live in separate tables.
NoteKey = tuple[str, int]


class AttachmentsByNote(Loader[NoteKey, "list[Attachment]"]):
    """Live files sent with notes already shown to the viewer (a work note's only for staff)."""

    async def batch(self, keys: Sequence[NoteKey]) -> list[list[Attachment]]:
        actor = self.actor
        if actor is None:
            return [[] for _ in keys]
        rows = await attachments_of_notes(
            actor,
            comment_ids=[note_id for kind, note_id in keys if kind == "comment"],
            work_note_ids=[note_id for kind, note_id in keys if kind == "work_note"],
        )
        grouped: dict[NoteKey, list[Attachment]] = defaultdict(list)
        for row in rows:
            key = ("comment", row.comment_id) if row.comment_id is not None else ("work_note", row.work_note_id)
            grouped[(key[0], int(key[1] or 0))].append(row)
        return [grouped.get(key, []) for key in keys]


class MembersByGroup(Loader[int, "list[GroupMembership]"]):
    async def batch(self, keys: Sequence[int]) -> list[list[GroupMembership]]:
        rows = await GroupMembership.filter(group_id__in=list(set(keys))).order_by("id")
        grouped: dict[int, list[GroupMembership]] = defaultdict(list)
        for row in rows:
            grouped[row.group_id].append(row)
        return [grouped.get(key, []) for key in keys]


class OpenChildrenCountByCase(Loader[str, int]):
    """Children of the case not yet resolved, closed or cancelled (deleted ones aside)."""

    async def batch(self, keys: Sequence[str]) -> list[int]:
        return await _open_children(keys)


class OpenRequiredStagesByCase(Loader[str, frozenset[CaseStage]]):
    """Stages of the case with required playbook steps still open."""

    async def batch(self, keys: Sequence[str]) -> list[frozenset[CaseStage]]:
        return await _open_required_stages(keys)


class OpenStepCountByCase(Loader[str, int]):
    """Playbook steps of the case not ticked off yet, required or not."""

    async def batch(self, keys: Sequence[str]) -> list[int]:
        return await _open_steps(keys)


class InboundReferralStatusByCase(Loader[str, "ReferralStatus | None"]):
    """The status of the referral a partner sent this case to us with (None: not a referral)."""

    async def batch(self, keys: Sequence[str]) -> list[ReferralStatus | None]:
        return await _inbound_referral_statuses(keys)


class PlaybookEnforcedByCaseType(Loader[int, bool]):
    async def batch(self, keys: Sequence[int]) -> list[bool]:
        return await _enforced_playbooks(keys)


async def _open_children(keys: Sequence[str]) -> list[int]:
    parents = (
        await Case.filter(parent_id__in=list(set(keys)), deleted_at__isnull=True)
        .exclude(status__in=list(SETTLED_STATUSES))
        .values_list("parent_id", flat=True)
    )
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
        "case_id", "status"
    )
    found = {str(case_id): ReferralStatus(status) for case_id, status in rows}
    return [found.get(key) for key in keys]


async def _enforced_playbooks(keys: Sequence[int]) -> list[bool]:
    rows = await Playbook.filter(case_type_id__in=list(set(keys)), enforce_required_steps=True).values_list(
        "case_type_id", flat=True
    )
    enforced = {int(row) for row in rows}  # type: ignore[call-overload]
    return [key in enforced for key in keys]
