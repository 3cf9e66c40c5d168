"""Playbooks: setting a case type's checklist per stage (ADMIN), and ticking a case's steps off
(`completeStep` / `reopenStep`, each a recorded COMPLETE_STEP event), resolved by
``resolvers/playbook_actions.py``. The checklists themselves are ``schema/types/playbooks.py``."""

from __future__ import annotations

import strawberry

from resolvers import playbook_actions
from schema.context import Info
from schema.inputs import CompleteStepInput, ReopenStepInput, SetPlaybookInput
from schema.payloads import CaseStepPayload, CaseTypePayload


@strawberry.type
class PlaybookMutation:
    @strawberry.mutation(description="Replace a case type's playbook (ADMIN).")
    async def set_playbook(self, info: Info, input: SetPlaybookInput) -> CaseTypePayload:
        return await playbook_actions.set_playbook(info, input)

    @strawberry.mutation(description="Tick a playbook step off: the case's assigned agent or a manager of its group.")
    async def complete_step(self, info: Info, input: CompleteStepInput) -> CaseStepPayload:
        return await playbook_actions.complete_step(info, input)

    @strawberry.mutation(description="Reopen a playbook step that was ticked off.")
    async def reopen_step(self, info: Info, input: ReopenStepInput) -> CaseStepPayload:
        return await playbook_actions.reopen_step(info, input)
