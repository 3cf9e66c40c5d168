"""The root Query and Mutation types: names fixed by api.md; each field is one resolver call."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from casegraph.domain.enums import CaseAction as A
from casegraph.domain.enums import TaskState
from resolvers import admin, queries, subscriptions
from resolvers.case_actions import run_case_action, run_create_case, run_finish_task
from schema import inputs as i
from schema.context import Info
from schema.enums import QueueScope
from schema.payloads import (
    AssignmentGroupPayload,
    CasePayload,
    CaseTypePayload,
    GroupMemberPayload,
    TaskPayload,
    UserPayload,
)
from schema.types.case import Case, CaseConnection, CaseEvent, QueueCounters
from schema.types.case_type import CaseType
from schema.types.people import AssignmentGroup, User


@strawberry.type
class Query:
    me: User = strawberry.field(
        resolver=queries.me, description="The authenticated user: the same User as everywhere, with their own fields."
    )
    case: Case | None = strawberry.field(resolver=queries.case, description="A case the viewer may see, by id.")
    case_by_number: Case | None = strawberry.field(
        resolver=queries.case_by_number, description="A case the viewer may see, by number (e.g. CS0001001)."
    )
    case_types: list[CaseType] = strawberry.field(resolver=queries.case_types, description="Case types.")
    assignment_groups: list[AssignmentGroup] = strawberry.field(
        resolver=queries.assignment_groups, description="Assignment groups."
    )

    @strawberry.field(
        description="Cases the viewer may see; `first` is at most 100 (more is refused: VALIDATION_FAILED)."
    )
    async def cases(
        self,
        info: Info,
        filter: i.CaseFilterInput | None = None,
        order_by: i.CaseOrderInput | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> CaseConnection:
        return await queries.cases(info, filter, order_by, first, after)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="File a case, or save a draft with `submit: false`.")
    async def create_case(self, info: Info, input: i.CreateCaseInput) -> CasePayload:
        return await run_create_case(info, input)

    @strawberry.mutation(description="DRAFT → INTAKE/NEW (the draft's author).")
    async def submit_case(self, info: Info, input: i.SubmitCaseInput) -> CasePayload:
        return await run_case_action(info, A.SUBMIT, "submitCase", input)

    @strawberry.mutation(description="Assign the case to an agent of its group (MANAGER).")
    async def assign_case(self, info: Info, input: i.AssignCaseInput) -> CasePayload:
        return await run_case_action(info, A.ASSIGN, "assignCase", input)

    @strawberry.mutation(description="The assigned agent accepts a NEW case: INTAKE/OPEN.")
    async def accept_case(self, info: Info, input: i.AcceptCaseInput) -> CasePayload:
        return await run_case_action(info, A.ACCEPT, "acceptCase", input)

    @strawberry.mutation(description="Take a NEW case of your group: INTAKE/OPEN, assigned to you.")
    async def assign_to_me(self, info: Info, input: i.AssignToMeInput) -> CasePayload:
        return await run_case_action(info, A.ASSIGN_TO_ME, "assignToMe", input)

    @strawberry.mutation(description="Change fields, comment or add a work note.")
    async def update_case(self, info: Info, input: i.UpdateCaseInput) -> CasePayload:
        return await run_case_action(info, A.UPDATE, "updateCase", input)

    @strawberry.mutation(description="INTAKE/OPEN → REVIEW/OPEN (public-service workflow).")
    async def begin_review(self, info: Info, input: i.BeginReviewInput) -> CasePayload:
        return await run_case_action(info, A.BEGIN_REVIEW, "beginReview", input)

    @strawberry.mutation(description="Ask the requester a question: AWAITING_INFO in the same stage.")
    async def request_info(self, info: Info, input: i.RequestInfoInput) -> CasePayload:
        return await run_case_action(info, A.REQUEST_INFO, "requestInfo", input)

    @strawberry.mutation(description="AWAITING_INFO → the status the case was in before.")
    async def resume_case(self, info: Info, input: i.ResumeCaseInput) -> CasePayload:
        return await run_case_action(info, A.RESUME, "resumeCase", input)

    @strawberry.mutation(description="REVIEW/OPEN → INSPECTION_IN_PROGRESS with a field agent.")
    async def request_inspection(self, info: Info, input: i.RequestInspectionInput) -> CasePayload:
        return await run_case_action(info, A.REQUEST_INSPECTION, "requestInspection", input)

    @strawberry.mutation(description="Record findings: PROCESS/WORK_IN_PROGRESS.")
    async def complete_inspection(self, info: Info, input: i.CompleteInspectionInput) -> CasePayload:
        return await run_case_action(info, A.COMPLETE_INSPECTION, "completeInspection", input)

    @strawberry.mutation(description="REVIEW/OPEN → PROCESS/WORK_IN_PROGRESS.")
    async def start_work(self, info: Info, input: i.StartWorkInput) -> CasePayload:
        return await run_case_action(info, A.START_WORK, "startWork", input)

    @strawberry.mutation(description="Create case tasks: WORK_ASSIGNMENT_IN_PROGRESS.")
    async def assign_work(self, info: Info, input: i.AssignWorkInput) -> CasePayload:
        return await run_case_action(info, A.ASSIGN_WORK, "assignWork", input)

    @strawberry.mutation(description="Every task settled: DECISION/READY_FOR_DECISION.")
    async def complete_work(self, info: Info, input: i.CompleteWorkInput) -> CasePayload:
        return await run_case_action(info, A.COMPLETE_WORK, "completeWork", input)

    @strawberry.mutation(description="Resolve with a code and notes: DECISION/RESOLVED.")
    async def propose_solution(self, info: Info, input: i.ProposeSolutionInput) -> CasePayload:
        return await run_case_action(info, A.PROPOSE_SOLUTION, "proposeSolution", input)

    @strawberry.mutation(description="The requester accepts the solution: CLOSED; the survey opens.")
    async def accept_solution(self, info: Info, input: i.AcceptSolutionInput) -> CasePayload:
        return await run_case_action(info, A.ACCEPT_SOLUTION, "acceptSolution", input)

    @strawberry.mutation(description="The requester rejects the solution: the case reopens.")
    async def reject_solution(self, info: Info, input: i.RejectSolutionInput) -> CasePayload:
        return await run_case_action(info, A.REJECT_SOLUTION, "rejectSolution", input)

    @strawberry.mutation(description="Close the case (not from RESOLVED).")
    async def close_case(self, info: Info, input: i.CloseCaseInput) -> CasePayload:
        return await run_case_action(info, A.CLOSE, "closeCase", input)

    @strawberry.mutation(description="Cancel the case (the requester withdraws, or a manager cancels).")
    async def cancel_case(self, info: Info, input: i.CancelCaseInput) -> CasePayload:
        return await run_case_action(info, A.CANCEL, "cancelCase", input)

    @strawberry.mutation(description="Soft-delete: hidden from every listing; ADMIN can restore.")
    async def delete_case(self, info: Info, input: i.DeleteCaseInput) -> CasePayload:
        return await run_case_action(info, A.DELETE, "deleteCase", input)

    @strawberry.mutation(description="Rate a case closed by accepting its solution (once).")
    async def submit_survey(self, info: Info, input: i.SubmitSurveyInput) -> CasePayload:
        return await run_case_action(info, A.SUBMIT_SURVEY, "submitSurvey", input)

    @strawberry.mutation(description="Finish a case task.")
    async def complete_task(self, info: Info, input: i.CompleteTaskInput) -> TaskPayload:
        return await run_finish_task(info, "completeTask", input, TaskState.DONE)

    @strawberry.mutation(description="Cancel a case task, with a reason.")
    async def cancel_task(self, info: Info, input: i.CancelTaskInput) -> TaskPayload:
        return await run_finish_task(info, "cancelTask", input, TaskState.CANCELLED)

    @strawberry.mutation(description="Bring back a deleted case (ADMIN).")
    async def restore_case(self, info: Info, input: i.RestoreCaseInput) -> CasePayload:
        return await run_case_action(info, A.RESTORE, "restoreCase", input)

    @strawberry.mutation(description="Create an assignment group (ADMIN).")
    async def create_assignment_group(self, info: Info, input: i.CreateAssignmentGroupInput) -> AssignmentGroupPayload:
        return await admin.create_assignment_group(info, input)

    @strawberry.mutation(description="Add a user to a group, or change their manager flag (ADMIN).")
    async def add_group_member(self, info: Info, input: i.AddGroupMemberInput) -> GroupMemberPayload:
        return await admin.add_group_member(info, input)

    @strawberry.mutation(description="Remove a user from a group (ADMIN).")
    async def remove_group_member(self, info: Info, input: i.RemoveGroupMemberInput) -> GroupMemberPayload:
        return await admin.remove_group_member(info, input)

    @strawberry.mutation(description="Create a case type (ADMIN).")
    async def create_case_type(self, info: Info, input: i.CreateCaseTypeInput) -> CaseTypePayload:
        return await admin.create_case_type(info, input)

    @strawberry.mutation(description="Change a case type's name, description, routing or active flag (ADMIN).")
    async def update_case_type(self, info: Info, input: i.UpdateCaseTypeInput) -> CaseTypePayload:
        return await admin.update_case_type(info, input)

    @strawberry.mutation(description="Mark an agent available or unavailable for automatic routing.")
    async def set_availability(self, info: Info, input: i.SetAvailabilityInput) -> UserPayload:
        return await admin.set_availability(info, input)

    @strawberry.mutation(description="Replace an agent's routing skills (a manager of their group, or ADMIN).")
    async def set_agent_skills(self, info: Info, input: i.SetAgentSkillsInput) -> UserPayload:
        return await admin.set_agent_skills(info, input)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Events the viewer may see (of one case, or of every visible case), in sequence order. "
        "With `after` (the last event id seen) stored events are replayed first, with no gap or duplicate."
    )
    async def case_events(
        self, info: Info, case_id: strawberry.ID | None = None, after: strawberry.ID | None = None
    ) -> AsyncGenerator[CaseEvent, None]:
        async for event in subscriptions.case_events(info, case_id, after):
            yield event

    @strawberry.subscription(
        description="A dashboard queue: events of cases of my groups (or one of them), or of cases assigned to me."
    )
    async def queue_events(
        self,
        info: Info,
        scope: QueueScope = QueueScope.MY_GROUPS,
        group_code: str | None = None,
        after: strawberry.ID | None = None,
    ) -> AsyncGenerator[CaseEvent, None]:
        async for event in subscriptions.queue_events(info, scope, group_code, after):
            yield event

    @strawberry.subscription(description="Live counts of a group's open cases per status; first the current counts.")
    async def queue_counters(self, info: Info, group_code: str) -> AsyncGenerator[QueueCounters, None]:
        async for counters in subscriptions.queue_counters(info, group_code):
            yield counters
