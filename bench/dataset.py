"""A reproducible benchmark data set, written with COPY straight into casegraph's tables.

``generate(DatasetSpec(cases=10_000))`` builds every row in memory from a fixed random seed:
users, groups and memberships, case types and SLA policies, cases at every point of both
workflows (with their event log, three tasks each and SLA timers), and ``load_dataset`` copies
them into a migrated, empty PostgreSQL database through asyncpg (seconds for 10,000 cases, where
the GraphQL API would take minutes).

The rows are what casegraph itself would have written: each case's path through the life cycle
is taken step by step with ``casegraph.domain.lifecycle.decide`` (so a state the table does not
allow cannot appear), its event log has one event per version, and its SLA timers are run along
with ``casegraph.domain.sla.Timer``, warnings and breaches recorded when they were due (a breach
flags the case escalated). Timestamps are relative to ``now`` (the time of generation unless
given), so the timers are realistic whenever the benchmark runs; no SLA threshold falls due
within ``HORIZON`` of ``now``, so the server's SLA evaluator changes nothing during a run and the
queue stays the same for both servers.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import asyncpg

from bench import dataset_world as world
from casegraph.database.counters import CASE_NUMBER, CASE_NUMBER_START, EVENT_SEQUENCE
from casegraph.domain.business_hours import ALWAYS
from casegraph.domain.enums import (
    CaseAction,
    CaseEventType,
    CaseStatus,
    Relation,
    ResolutionCode,
    Role,
    TaskState,
    Workflow,
)
from casegraph.domain.lifecycle import (
    AWAITING,
    DRAFT,
    INTAKE_NEW,
    INTAKE_OPEN,
    REVIEW_OPEN,
    Facts,
    State,
    decide,
)
from casegraph.domain.priority import derive_priority
from casegraph.domain.sla import BREACH_PERCENT, Phase, Timer, TimerKind, event_type_for, phase_of

HORIZON: Final = timedelta(hours=6)
MAX_AGE_DAYS: Final = 120
ALL_RELATIONS: Final = frozenset(Relation)
DRAFT_SHARE: Final = 0.02

A = CaseAction
PS_FLOW: Final = (
    A.ASSIGN_TO_ME,
    A.BEGIN_REVIEW,
    A.START_WORK,
    A.ASSIGN_WORK,
    A.COMPLETE_WORK,
    A.PROPOSE_SOLUTION,
    A.ACCEPT_SOLUTION,
)
CS_FLOW: Final = (A.ASSIGN_TO_ME, A.PROPOSE_SOLUTION, A.ACCEPT_SOLUTION)
# How far along its workflow a case got (index = steps taken): most are closed, some in each state.
FLOW_WEIGHTS: Final = {
    Workflow.PUBLIC_SERVICE: (10, 8, 8, 8, 6, 5, 10, 45),
    Workflow.CUSTOMER_SERVICE: (12, 25, 13, 50),
}
DELETABLE: Final = frozenset({INTAKE_NEW, INTAKE_OPEN, REVIEW_OPEN, *AWAITING})
FIRED_COLUMNS: Final = {50: "warned_50_at", 75: "warned_75_at", BREACH_PERCENT: "breached_at"}

USER_COLUMNS: Final = (
    "id",
    "name",
    "email",
    "roles",
    "agency",
    "available",
    "created_at",
    "updated_at",
    "last_assigned_at",
    "skills",
)
GROUP_COLUMNS: Final = ("id", "code", "name", "created_at")
MEMBERSHIP_COLUMNS: Final = ("id", "group_id", "user_id", "is_manager", "created_at")
CASE_TYPE_COLUMNS: Final = (
    "id",
    "code",
    "name",
    "description",
    "workflow",
    "auto_assign",
    "active",
    "created_at",
    "assignment_group_id",
    "skills",
)
POLICY_COLUMNS: Final = ("id", "case_type_id", "priority", "response_minutes", "resolution_minutes", "updated_at")
CASE_COLUMNS: Final = (
    "id",
    "number",
    "title",
    "description",
    "stage",
    "status",
    "remembered_stage",
    "remembered_status",
    "workflow",
    "impact",
    "urgency",
    "priority",
    "channel",
    "contact_email",
    "contact_phone",
    "version",
    "resolution_code",
    "resolution_notes",
    "cancel_reason",
    "reopen_count",
    "solution_accepted",
    "submitted_at",
    "first_opened_at",
    "resolved_at",
    "closed_at",
    "deleted_at",
    "created_at",
    "updated_at",
    "assigned_to_id",
    "assignment_group_id",
    "author_id",
    "case_type_id",
    "deleted_by_id",
    "requester_id",
    "escalated",
    "auto_close_excluded",
    "latitude",
    "longitude",
)
TASK_COLUMNS: Final = (
    "id",
    "case_id",
    "title",
    "state",
    "due_at",
    "note",
    "created_at",
    "finished_at",
    "assignee_id",
    "finished_by_id",
)
TIMER_COLUMNS: Final = (
    "id",
    "case_id",
    "kind",
    "target_minutes",
    "elapsed_us",
    "running_since",
    "phase",
    "started_at",
    "stopped_at",
    "warned_50_at",
    "warned_75_at",
    "breached_at",
    "next_due_at",
)
EVENT_COLUMNS: Final = (
    "sequence",
    "case_id",
    "actor_id",
    "type",
    "action",
    "from_stage",
    "from_status",
    "to_stage",
    "to_status",
    "version",
    "summary",
    "request_id",
    "occurred_at",
)
# Children after parents, as the foreign keys need.
TABLES: Final = (
    ("users", USER_COLUMNS),
    ("assignment_groups", GROUP_COLUMNS),
    ("group_memberships", MEMBERSHIP_COLUMNS),
    ("case_types", CASE_TYPE_COLUMNS),
    ("sla_policies", POLICY_COLUMNS),
    ("cases", CASE_COLUMNS),
    ("case_tasks", TASK_COLUMNS),
    ("case_timers", TIMER_COLUMNS),
    ("case_events", EVENT_COLUMNS),
)
SERIAL_TABLES: Final = (
    "assignment_groups",
    "group_memberships",
    "case_types",
    "sla_policies",
    "case_tasks",
    "case_timers",
)


@dataclass(frozen=True)
class DatasetSpec:
    cases: int = 10_000
    tasks_per_case: int = 3
    seed: int = 8
    now: datetime | None = None  # None: the time of generation, to the second

    @property
    def constituents(self) -> int:
        return max(20, self.cases // 5)


@dataclass(frozen=True)
class GeneratedDataset:
    spec: DatasetSpec
    now: datetime
    rows: dict[str, list[tuple[Any, ...]]]
    group_ids: dict[str, int]

    @property
    def bench_agent_id(self) -> str:
        return world.BENCH_AGENT_ID

    @property
    def bench_group_ids(self) -> list[int]:
        return sorted(self.group_ids[code] for code in world.BENCH_AGENT_GROUPS)

    def viewer_group_ids(self, viewer: world.Viewer) -> list[int]:
        return sorted(self.group_ids[code] for code in viewer.groups)

    def records(self, table: str) -> list[dict[str, Any]]:
        """The rows of one table as dicts (column name → value), in load order."""
        columns = dict(TABLES)[table]
        return [dict(zip(columns, row, strict=True)) for row in self.rows[table]]

    def counts(self) -> dict[str, int]:
        return {table: len(rows) for table, rows in self.rows.items()}


@dataclass(frozen=True)
class _People:
    constituents: list[str]
    agents: dict[str, list[str]]  # group code → who takes its cases (the bench agent in its groups)
    managers: dict[str, str]


def generate(spec: DatasetSpec) -> GeneratedDataset:
    rng = random.Random(spec.seed)
    now = spec.now or datetime.now(UTC).replace(microsecond=0)
    since = now - timedelta(days=400)
    rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table, _ in TABLES}

    group_ids = {g.code: i for i, g in enumerate(world.GROUPS, start=1)}
    rows["assignment_groups"] = [(group_ids[g.code], g.code, g.name, since) for g in world.GROUPS]
    type_ids = {t.code: i for i, t in enumerate(world.CASE_TYPES, start=1)}
    rows["case_types"] = [
        (
            type_ids[t.code],
            t.code,
            t.name,
            f"{t.name} requests.",
            t.workflow.value,
            False,
            True,
            since,
            group_ids[t.group],
            None,
        )
        for t in world.CASE_TYPES
    ]
    policies = [
        (type_ids[t.code], priority, response, resolution, since)
        for t in world.CASE_TYPES
        for priority, (response, resolution) in world.SLA_MINUTES.items()
    ]
    rows["sla_policies"] = [(i, *policy) for i, policy in enumerate(policies, start=1)]
    people = _people(spec, rng, rows, group_ids, since)

    cases: list[_Case] = [_case(rng, now, people) for _ in range(spec.cases)]
    # Numbers follow creation, as the case-number counter hands them out.
    cases.sort(key=lambda c: c.created_at)
    events: list[tuple[datetime, int, _Event]] = []
    task_id = 0
    timer_id = 0
    for index, case in enumerate(cases):
        number = f"CS{CASE_NUMBER_START + 1 + index:07d}"
        rows["cases"].append(case.row(number, group_ids, type_ids))
        for task in _tasks(spec, rng, case, people):
            task_id += 1
            rows["case_tasks"].append((task_id, *task))
        for timer_row in case.timer_rows():
            timer_id += 1
            rows["case_timers"].append((timer_id, case.id, *timer_row))
        events.extend((event.at, index, event) for event in case.events)
    # Sequences follow commit order: time, then the case's own order.
    events.sort(key=lambda item: (item[0], item[1], item[2].version))
    rows["case_events"] = [
        event.row(sequence, cases[index].id) for sequence, (_, index, event) in enumerate(events, start=1)
    ]
    return GeneratedDataset(spec=spec, now=now, rows=rows, group_ids=group_ids)


def _people(
    spec: DatasetSpec,
    rng: random.Random,
    rows: dict[str, list[tuple[Any, ...]]],
    group_ids: dict[str, int],
    since: datetime,
) -> _People:
    def person(user_id: str, name: str, roles: Sequence[Role]) -> None:
        email = f"{user_id}@example.gov"
        rows["users"].append(
            (user_id, name, email, json.dumps([r.value for r in roles]), None, True, since, since, None, None)
        )

    def random_name() -> str:
        return f"{rng.choice(world.FIRST_NAMES)} {rng.choice(world.LAST_NAMES)}"

    constituents = [f"citizen-{i:05d}" for i in range(spec.constituents)]
    for user_id in constituents:
        person(user_id, random_name(), [Role.CONSTITUENT])
    person(world.BENCH_AGENT_ID, world.BENCH_AGENT_NAME, [Role.AGENT])
    agents: dict[str, list[str]] = {}
    managers: dict[str, str] = {}

    def member(group: str, user_id: str, manager: bool) -> None:
        rows["group_memberships"].append(
            (len(rows["group_memberships"]) + 1, group_ids[group], user_id, manager, since)
        )

    for group in world.GROUPS:
        code = group.code
        managers[code] = f"{code.lower()}-manager"
        person(managers[code], random_name(), [Role.MANAGER])
        member(code, managers[code], True)
        agents[code] = [f"{code.lower()}-agent-{j}" for j in range(1, world.AGENTS_PER_GROUP + 1)]
        for agent in agents[code]:
            person(agent, random_name(), [Role.AGENT])
            member(code, agent, False)
        if code in world.BENCH_AGENT_GROUPS:
            member(code, world.BENCH_AGENT_ID, False)
            agents[code].append(world.BENCH_AGENT_ID)
    # The queue benchmark's viewers only look: added last, with fixed names, so the random draws
    # (and every other row) stay what they were without them.
    for viewer in world.VIEWERS:
        person(viewer.id, viewer.name, [Role.AGENT])
        for code in viewer.groups:
            member(code, viewer.id, False)
    return _People(constituents=constituents, agents=agents, managers=managers)


@dataclass
class _Event:
    at: datetime
    version: int
    actor_id: str | None
    type: CaseEventType
    action: CaseAction
    before: State | None
    after: State
    summary: dict[str, Any]

    def row(self, sequence: int, case_id: uuid.UUID) -> tuple[Any, ...]:
        return (
            sequence,
            case_id,
            self.actor_id,
            self.type.value,
            self.action.value,
            self.before[0].value if self.before else None,
            self.before[1].value if self.before else None,
            self.after[0].value,
            self.after[1].value,
            self.version,
            json.dumps(self.summary),
            None,
            self.at,
        )


@dataclass
class _TimerState:
    timer: Timer
    started_at: datetime
    stopped_at: datetime | None = None
    fired_at: dict[int, datetime] = field(default_factory=dict)


@dataclass
class _Case:
    """One case while its history is being written, then its row."""

    id: uuid.UUID
    type: world.CaseTypeSpec
    requester_id: str
    channel: str
    impact: int
    urgency: int
    title: str
    created_at: datetime
    submitted: bool
    state: State = DRAFT
    events: list[_Event] = field(default_factory=list)
    timers: dict[TimerKind, _TimerState] = field(default_factory=dict)
    remembered: State | None = None
    assignee_id: str | None = None
    first_opened_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    deleted_at: datetime | None = None
    deleted_by_id: str | None = None
    resolution_code: str | None = None
    resolution_notes: str | None = None
    cancel_reason: str | None = None
    solution_accepted: bool = False
    escalated: bool = False
    work_assigned_at: datetime | None = None
    work_completed: bool = False
    latitude: float | None = None
    longitude: float | None = None

    @property
    def priority(self) -> int:
        return derive_priority(self.impact, self.urgency)

    @property
    def updated_at(self) -> datetime:
        return self.events[-1].at

    def record(
        self,
        at: datetime,
        action: CaseAction,
        event_type: CaseEventType,
        actor_id: str | None,
        after: State,
        summary: dict[str, Any],
    ) -> None:
        before = self.state if self.events else None
        self.events.append(_Event(at, len(self.events) + 1, actor_id, event_type, action, before, after, summary))
        self.state = after

    def row(self, number: str, group_ids: dict[str, int], type_ids: dict[str, int]) -> tuple[Any, ...]:
        remembered = self.remembered if self.state in AWAITING else None
        return (
            self.id,
            number,
            self.title,
            f"Reported via {self.channel.lower()}: {self.title}.",
            self.state[0].value,
            self.state[1].value,
            remembered[0].value if remembered else None,
            remembered[1].value if remembered else None,
            self.type.workflow.value,
            self.impact,
            self.urgency,
            self.priority,
            self.channel,
            f"{self.requester_id}@example.org",
            None,
            len(self.events),
            self.resolution_code,
            self.resolution_notes,
            self.cancel_reason,
            0,
            self.solution_accepted,
            self.created_at if self.submitted else None,
            self.first_opened_at,
            self.resolved_at,
            self.closed_at,
            self.deleted_at,
            self.created_at,
            self.updated_at,
            self.assignee_id,
            group_ids[self.type.group],
            self.requester_id,
            type_ids[self.type.code],
            self.deleted_by_id,
            self.requester_id,
            self.escalated,
            False,
            self.latitude,
            self.longitude,
        )

    def timer_rows(self) -> list[tuple[Any, ...]]:
        rows = []
        for kind in TimerKind:
            if kind not in self.timers:
                continue
            t = self.timers[kind]
            timer = t.timer
            rows.append(
                (
                    kind.value,
                    int(timer.target.total_seconds()) // 60,
                    timer.elapsed // timedelta(microseconds=1),
                    timer.running_since,
                    timer.phase.value,
                    t.started_at,
                    t.stopped_at,
                    *(t.fired_at.get(percent) for percent in FIRED_COLUMNS),
                    timer.next_due_at(ALWAYS),
                )
            )
        return rows


def _case(rng: random.Random, now: datetime, people: _People) -> _Case:
    group = rng.choices(world.GROUPS, weights=[g.weight for g in world.GROUPS])[0]
    case_type = rng.choice([t for t in world.CASE_TYPES if t.group == group.code])
    requester = rng.choice(people.constituents)
    channel = rng.choices([c for c, _ in world.CHANNELS], weights=[w for _, w in world.CHANNELS])[0].value
    impact, urgency = rng.choice((1, 2, 2, 3, 3, 3)), rng.choice((1, 2, 2, 3, 3, 3))
    title = f"{case_type.name} at {rng.randint(1, 240)} {rng.choice(world.STREETS)}"
    case_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    location = (round(rng.uniform(40.60, 40.80), 5), round(rng.uniform(-74.05, -73.85), 5))
    assignee = rng.choice(people.agents[case_type.group])
    manager = people.managers[case_type.group]
    if rng.random() < DRAFT_SHARE:
        age = timedelta(days=MAX_AGE_DAYS * rng.random() ** 2)
        case = _Case(case_id, case_type, requester, channel, impact, urgency, title, now - age, submitted=False)
        case.record(
            case.created_at,
            A.CREATE,
            CaseEventType.CASE_CREATED,
            requester,
            DRAFT,
            {"submitted": False, "channel": channel},
        )
        return case
    actions = _plan(rng, case_type.workflow)
    final = _final_state(case_type.workflow, actions)
    # Redraw the timeline (never the path) until no SLA threshold falls due within HORIZON of now.
    for _ in range(50):
        gaps, quiet = _timeline(rng, case_type.workflow, actions, final, derive_priority(impact, urgency))
        created_at = now - quiet - sum(gaps, timedelta())
        case = _Case(
            case_id,
            case_type,
            requester,
            channel,
            impact,
            urgency,
            title,
            created_at,
            submitted=True,
            latitude=location[0] if case_type.workflow is Workflow.PUBLIC_SERVICE else None,
            longitude=location[1] if case_type.workflow is Workflow.PUBLIC_SERVICE else None,
        )
        times = [created_at + sum(gaps[: i + 1], timedelta()) for i in range(len(actions))]
        _history(case, actions, times, now, assignee, manager, rng)
        if not _due_soon(case, now):
            break
    return case


def _timeline(
    rng: random.Random, workflow: Workflow, actions: Sequence[CaseAction], final: State, priority: int
) -> tuple[list[timedelta], timedelta]:
    """Gaps before each action, and how long the case has been quiet since its last one.

    Staff work at a pace relative to the case's SLA targets (most cases meet them, some do not);
    requesters answer and accept within days. Finished cases ended any time in the data set's
    past; open ones are as recent as their pace makes them.
    """
    response, resolution = (timedelta(minutes=m) for m in world.SLA_MINUTES[priority])
    pace = rng.lognormvariate(-1.0, 0.6)  # share of the target a case's steps take together
    steps = len(PS_FLOW if workflow is Workflow.PUBLIC_SERVICE else CS_FLOW)
    step = resolution * pace / steps
    requester = timedelta(days=2)

    def draw(mean: timedelta) -> timedelta:
        return mean * rng.expovariate(1.0)

    gaps = []
    for action in actions:
        if action is A.ASSIGN_TO_ME:
            gaps.append(draw(response * pace))
        elif action in (A.RESUME, A.ACCEPT_SOLUTION):
            gaps.append(draw(requester))
        else:
            gaps.append(draw(step))
    if final[1] in (CaseStatus.CLOSED, CaseStatus.CANCELLED) or final in DELETABLE and rng.random() < 0.3:
        quiet = timedelta(days=MAX_AGE_DAYS * rng.random())
    elif final in AWAITING or final[1] is CaseStatus.RESOLVED:
        quiet = draw(requester)
    else:
        quiet = draw(response * pace if final == INTAKE_NEW else step)
    return gaps, quiet + timedelta(minutes=1)


def _plan(rng: random.Random, workflow: Workflow) -> list[CaseAction]:
    """The actions a submitted case went through, checked against the life-cycle table."""
    flow = PS_FLOW if workflow is Workflow.PUBLIC_SERVICE else CS_FLOW
    steps = rng.choices(range(len(flow) + 1), weights=FLOW_WEIGHTS[workflow])[0]
    actions: list[CaseAction] = []

    def allowed(action: CaseAction) -> bool:
        return _decision_to(workflow, actions, action) is not None

    for step in flow[:steps]:
        if rng.random() < 0.06 and allowed(A.REQUEST_INFO):
            actions += [A.REQUEST_INFO, A.RESUME]
        actions.append(step)
    if rng.random() < 0.2 and allowed(A.REQUEST_INFO):
        actions.append(A.REQUEST_INFO)
    roll = rng.random()
    final = _final_state(workflow, actions)
    if roll < 0.04 and allowed(A.CANCEL):
        actions.append(A.CANCEL)
    elif roll < 0.055 and final in DELETABLE:
        actions.append(A.DELETE)
    return actions


def _walk(workflow: Workflow, actions: Sequence[CaseAction]) -> tuple[State, State | None]:
    """Where a newly submitted case lands after ``actions``, and the state it remembers (if awaiting)."""
    state, remembered = INTAKE_NEW, None
    for action in actions:
        target = _decide(workflow, state, remembered, action)
        remembered = state if action is A.REQUEST_INFO else None if action is A.RESUME else remembered
        state = target
    return state, remembered


def _final_state(workflow: Workflow, actions: Sequence[CaseAction]) -> State:
    return _walk(workflow, actions)[0]


def _decision_to(workflow: Workflow, actions: Sequence[CaseAction], action: CaseAction) -> State | None:
    state, remembered = _walk(workflow, actions)
    verdict = decide(
        action=action, workflow=workflow, state=state, relations=ALL_RELATIONS, facts=Facts(remembered=remembered)
    )
    return verdict.to if verdict.allowed else None


def _decide(workflow: Workflow, state: State, remembered: State | None, action: CaseAction) -> State:
    verdict = decide(
        action=action, workflow=workflow, state=state, relations=ALL_RELATIONS, facts=Facts(remembered=remembered)
    )
    if not verdict.allowed or verdict.to is None:
        raise AssertionError(f"the data set planned {action.value} from {state}: {verdict.message}")
    return verdict.to


def _history(
    case: _Case,
    actions: Sequence[CaseAction],
    times: Sequence[datetime],
    now: datetime,
    assignee: str,
    manager: str,
    rng: random.Random,
) -> None:
    """Record the case's events in order, running its SLA timers alongside."""
    case.record(
        case.created_at,
        A.CREATE,
        CaseEventType.CASE_CREATED,
        case.requester_id,
        INTAKE_NEW,
        {"submitted": True, "channel": case.channel},
    )
    for kind, minutes in zip(TimerKind, world.SLA_MINUTES[case.priority], strict=True):
        timer = Timer.start(kind, timedelta(minutes=minutes), phase=Phase.RUNNING, now=case.created_at)
        case.timers[kind] = _TimerState(timer, started_at=case.created_at)
    for action, at in zip(actions, times, strict=True):
        _fire_due(case, at)
        workflow = case.type.workflow
        verdict = decide(
            action=action,
            workflow=workflow,
            state=case.state,
            relations=ALL_RELATIONS,
            facts=Facts(remembered=case.remembered),
        )
        if not verdict.allowed or verdict.to is None or verdict.event_type is None:
            raise AssertionError(f"{action.value} from {case.state}: {verdict.message}")
        # Staff actions are the assignee's (a manager's before anyone took the case), the
        # requester accepts or withdraws.
        actor: str | None = case.assignee_id or manager
        summary: dict[str, Any] = {}
        if action is A.ASSIGN_TO_ME:
            case.assignee_id = actor = assignee
            summary = {"assignee": assignee}
        elif action is A.REQUEST_INFO:
            case.remembered = case.state
            summary = {"question": "Could you send a photo?"}
        elif action is A.RESUME:
            case.remembered = None
        elif action is A.ASSIGN_WORK:
            case.work_assigned_at = at
        elif action is A.COMPLETE_WORK:
            case.work_completed = True
        elif action is A.PROPOSE_SOLUTION:
            case.resolved_at = at
            case.resolution_code = ResolutionCode.SOLVED.value
            case.resolution_notes = rng.choice(world.RESOLUTION_NOTES)
            summary = {"resolutionCode": case.resolution_code}
        elif action is A.ACCEPT_SOLUTION:
            actor = case.requester_id
            case.closed_at = at
            case.solution_accepted = True
        elif action is A.CANCEL:
            actor = case.requester_id
            case.cancel_reason = "No longer needed."
            summary = {"reason": case.cancel_reason}
        elif action is A.DELETE:
            case.deleted_at = at
            case.deleted_by_id = actor
        case.record(at, action, verdict.event_type, actor, verdict.to, summary)
        if case.first_opened_at is None and case.state[1] is CaseStatus.OPEN:
            case.first_opened_at = at
        _move_timers(case, at)
    _fire_due(case, now)


def _move_timers(case: _Case, at: datetime) -> None:
    for kind, state in case.timers.items():
        phase = phase_of(
            kind,
            status=case.state[1],
            first_opened=case.first_opened_at is not None,
            deleted=case.deleted_at is not None,
        )
        moved = state.timer.moved_to(phase, at, ALWAYS)
        if moved.phase is not state.timer.phase:
            state.stopped_at = at if moved.phase is Phase.STOPPED else None
        state.timer = moved


def _fire_due(case: _Case, until: datetime) -> None:
    """Warnings and breaches reached by ``until``, recorded when each was due (as the evaluator does)."""
    dues = sorted(
        (due for state in case.timers.values() for due in state.timer.due(until, ALWAYS)), key=lambda due: due.due_at
    )
    for due in dues:
        state = case.timers[due.kind]
        state.timer = replace(state.timer, fired=state.timer.fired | {due.percent})
        state.fired_at[due.percent] = due.due_at
        breach = due.percent >= BREACH_PERCENT
        case.escalated = case.escalated or breach
        case.record(
            due.due_at,
            A.SLA_TIMER,
            event_type_for(due.percent),
            None,
            case.state,
            {
                "timer": due.kind.value,
                "threshold": due.percent,
                "dueAt": due.due_at.isoformat(),
                "escalated": breach,
            },
        )


def _due_soon(case: _Case, now: datetime) -> bool:
    for state in case.timers.values():
        due = state.timer.next_due_at(ALWAYS)
        if due is not None and due < now + HORIZON:
            return True
    return False


def _tasks(spec: DatasetSpec, rng: random.Random, case: _Case, people: _People) -> list[tuple[Any, ...]]:
    """The case's work-order lines: settled once the work is done, else in every state."""
    settled = case.work_completed or case.state[1] in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
    created = case.work_assigned_at or case.created_at + (case.updated_at - case.created_at) * 0.1
    rows = []
    for _ in range(spec.tasks_per_case):
        assignee = rng.choice(people.agents[case.type.group]) if rng.random() < 0.8 else None
        if case.state[1] is CaseStatus.CANCELLED:
            state = TaskState.CANCELLED
        elif settled:
            state = TaskState.DONE if rng.random() < 0.85 else TaskState.CANCELLED
        else:
            state = rng.choices((TaskState.OPEN, TaskState.IN_PROGRESS, TaskState.DONE), weights=(50, 25, 25))[0]
        finished = state in (TaskState.DONE, TaskState.CANCELLED)
        finished_at = created + (case.updated_at - created) * rng.uniform(0.1, 1.0) if finished else None
        rows.append(
            (
                case.id,
                rng.choice(world.TASK_TITLES),
                state.value,
                created + timedelta(days=rng.uniform(1, 10)),
                None,
                created,
                finished_at,
                assignee,
                (assignee or case.assignee_id) if finished else None,
            )
        )
    return rows


async def load_dataset(database_url: str, spec: DatasetSpec) -> GeneratedDataset:
    """Generate the data set and COPY it into a migrated, empty casegraph database."""
    data = generate(spec)
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        async with connection.transaction():
            for table, columns in TABLES:
                await connection.copy_records_to_table(table, records=data.rows[table], columns=list(columns))
            for table in SERIAL_TABLES:
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
            # The counters carry on where the data set stops, so new cases and events follow it.
            await connection.executemany(
                "INSERT INTO counters (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                [(CASE_NUMBER, CASE_NUMBER_START + spec.cases), (EVENT_SEQUENCE, len(data.rows["case_events"]))],
            )
        # As autovacuum would leave a database that grew to this size: planner statistics and a
        # visibility map. Done now, so no autovacuum of the fresh rows runs during a measurement.
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    return data
