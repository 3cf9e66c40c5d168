"""Splitting a case into child cases (`splitCase`, resolved by ``resolvers/split_case.py``). A
child's `parent` and a parent's `children` are fields of ``Case`` (``schema/types/case.py``)."""

from __future__ import annotations

import strawberry

from resolvers import split_case
from schema.context import Info
from schema.inputs import SplitCaseInput
from schema.payloads import SplitCasePayload


@strawberry.type
class CaseTreeMutation:
    @strawberry.mutation(description="Split a case into child cases: its assigned agent or a manager of its group.")
    async def split_case(self, info: Info, input: SplitCaseInput) -> SplitCasePayload:
        return await split_case.split_case(info, input)
