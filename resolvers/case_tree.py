"""``Case.parent`` and ``Case.children``: the records, for the schema's types to wrap."""

from __future__ import annotations

from casegraph.services.case_tree import ChildProgress, progress
from casegraph.services.records import CaseRecord
from resolvers.feature_loaders import ChildrenByParent
from resolvers.loaders import VisibleCaseById
from schema.context import Info


async def parent_of(info: Info, record: CaseRecord) -> CaseRecord | None:
    """The case ``record`` was split off, when the viewer may see it."""
    if record.parent_id is None:
        return None
    return await info.context.loaders[VisibleCaseById].load(record.parent_id)


async def children_of(info: Info, record: CaseRecord) -> tuple[ChildProgress, list[CaseRecord]]:
    """Progress over all children of ``record``, and the children the viewer may see, oldest first."""
    children = await info.context.loaders[ChildrenByParent].load(record.id)
    counts = progress([status for _, status in children])
    visible = await info.context.loaders[VisibleCaseById].load_many([child_id for child_id, _ in children])
    return counts, [child for child in visible if child is not None]
