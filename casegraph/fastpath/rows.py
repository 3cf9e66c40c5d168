"""Row builders generated per shape: one Python function builds one case's response object.

A page has 50 cases, each with a dozen fields, three tasks and two SLA timers; calling a small
function per value costs more than the values themselves. So each shape's builder is written
out as the source of one function — a dict display over row positions, values decoded by the
functions of ``values`` — and compiled once. The generated source holds only row positions,
response keys (GraphQL names, written with ``repr``) and names of helpers passed in: nothing
from a request's data.

SLA timers use the same functions as ``Case.slaTimers`` (``timer_of``, ``Timer.view``), in the
same order (by kind, as ``TimerKind`` lists them).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final, NamedTuple, cast

import orjson

from casegraph.domain.business_hours import Calendar, calendar_from_json
from casegraph.domain.sla import Phase, Timer, TimerKind
from casegraph.fastpath.fields import (
    CASE_COLUMNS,
    CASE_TYPE_COLUMNS,
    CASE_USERS,
    GROUP_COLUMNS,
    PHASE_NAMES,
    STAFF_ONLY_CASE_FIELDS,
    TASK_COLUMNS,
    TIMER_COLUMNS,
    TIMER_KIND_NAMES,
    USER_COLUMNS,
)
from casegraph.fastpath.plan import TYPENAME, Field
from casegraph.fastpath.values import Decoder, EnumNames, boolean, instant, iso, same, text_id
from casegraph.services.timer_rows import timer_of
from models import CaseTimer

# Tasks as the statement aggregates them: their columns, then their assignee's.
TASK_POSITIONS: Final = {name: i for i, name in enumerate(TASK_COLUMNS)}
ASSIGNEE_POSITIONS: Final = {name: len(TASK_COLUMNS) + i for i, name in enumerate(USER_COLUMNS)}
TIMER_POSITIONS: Final = {column: i for i, column in enumerate(TIMER_COLUMNS)}
_KIND_ORDER: Final = {kind.value: index for index, kind in enumerate(TimerKind)}


class Request:
    """What building one response needs besides the rows: the viewer's staff flag and "now"."""

    __slots__ = ("sees_internal", "_clock", "_now")

    def __init__(self, *, sees_internal: bool, clock: Callable[[], datetime]) -> None:
        self.sees_internal = sees_internal
        self._clock = clock
        self._now: datetime | None = None

    def now(self) -> datetime:
        """One reading of the clock per request (the resolvers read it per case, a moment apart)."""
        if self._now is None:
            self._now = self._clock()
        return self._now


Row = Sequence[Any]
CaseBuilder = Callable[[Row, Request], dict[str, Any]]


class TimerRow(NamedTuple):
    """The columns ``timer_of`` reads, named as on the model (fired markers only tested for null)."""

    kind: TimerKind
    target_minutes: int
    elapsed_us: int
    running_since: datetime | None
    phase: Phase
    warned_50_at: Any
    warned_75_at: Any
    breached_at: Any


class _Calendars:
    """Calendars by their stored JSON text: building one parses time zones and windows."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: OrderedDict[str, Calendar] = OrderedDict()

    def of(self, stored: Any) -> Calendar:
        if stored is None or not isinstance(stored, str):
            return calendar_from_json(stored)
        found = self._entries.get(stored)
        if found is None:
            found = calendar_from_json(json.loads(stored))
            self._entries[stored] = found
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return found


CALENDARS: Final = _Calendars()


def nested(value: Any) -> Sequence[Sequence[Any]]:
    """Aggregated rows: PostgreSQL's arrays of records as they come, SQLite's JSON text parsed."""
    if value is None:
        return ()
    if isinstance(value, (str, bytes)):
        return cast(list[list[Any]], orjson.loads(value))
    return cast(Sequence[Sequence[Any]], value)


_KINDS: Final = {kind.value: kind for kind in TimerKind}
_PHASES: Final = {phase.value: phase for phase in Phase}


def timer_views(
    stored: Any, calendar_stored: Any, request: Request, native_times: bool
) -> list[tuple[Sequence[Any], Any, Any]]:
    """Each stored timer with its TimerRow and view, in the order ``Case.slaTimers`` lists them."""
    rows = nested(stored)
    if not rows:
        return []
    calendar = CALENDARS.of(calendar_stored)
    now = request.now()
    found = []
    for t in sorted(rows, key=lambda r: _KIND_ORDER[r[0]]) if len(rows) > 1 else rows:
        stored_row = tuple(t)
        known = _TIMERS.get(stored_row)
        if known is None:
            running_since = t[3] if native_times else instant(t[3])
            row = TimerRow(_KINDS[t[0]], t[1], t[2], running_since, _PHASES[t[4]], t[7], t[8], t[9])
            # The same arithmetic as Case.slaTimers (resolvers/sla.py case_sla_timers).
            known = (row, timer_of(cast(CaseTimer, row)))
            if len(_TIMERS) >= _TIMERS_KEPT:
                _TIMERS.clear()
            _TIMERS[stored_row] = known
        found.append((t, known[0], known[1].view(now, calendar)))
    return found


# Timers by their stored columns: ``timer_of`` is a pure function of them, and a queue shows the
# same timers request after request. Only the view depends on the time, so it is not kept.
_TIMERS: Final[dict[tuple[Any, ...], tuple[TimerRow, Timer]]] = {}
_TIMERS_KEPT: Final = 8192


class _Source:
    """Generated source with the helpers it names, for one dialect's values.

    PostgreSQL's times arrive as aware datetimes in UTC (asyncpg), so they are shown with
    ``isoformat()`` directly; SQLite's are text and go through ``values.iso``.
    """

    def __init__(self, native_times: bool) -> None:
        self.native_times = native_times
        self.helpers: dict[str, Any] = {
            "nested": nested,
            "timer_views": timer_views,
            "iso": iso,
            "int": int,
            "str": str,
            "bool": bool,
            "PAUSED": Phase.PAUSED,
            "STOPPED": Phase.STOPPED,
        }

    def helper(self, value: Any) -> str:
        for name, known in self.helpers.items():
            if known is value:
                return name
        name = f"h{len(self.helpers)}"
        self.helpers[name] = value
        return name

    def decoded(self, decoder: Decoder, expression: str) -> str:
        """``expression`` (a row position) decoded, inlined where a builtin or a lookup does it."""
        if decoder is same:
            return expression
        if isinstance(decoder, EnumNames):
            return f"{self.helper(decoder.names)}[{expression}]"
        if decoder is text_id:  # ids the compiled path shows are never null
            return f"str({expression})"
        if decoder is boolean:
            return f"bool({expression})"
        if decoder is iso:
            return self.time(expression)
        return f"{self.helper(decoder)}({expression})"

    def time(self, expression: str) -> str:
        if self.native_times:
            return f"(None if {expression} is None else {expression}.isoformat())"
        return f"iso({expression})"


def case_builder(fields: Sequence[Field], index: dict[str, int], *, native_times: bool) -> CaseBuilder:
    """``build(row, request)`` → the Case object of ``fields`` from one row of the page statement."""
    source = _Source(native_times)
    body = _case_object(source, fields, index)
    text = f"def build(row, request):\n    return {body}\n"
    namespace = dict(source.helpers)
    exec(compile(text, "<casegraph.fastpath.rows>", "exec"), namespace)  # noqa: S102 - generated above
    return cast(CaseBuilder, namespace["build"])


def _case_object(source: _Source, fields: Sequence[Field], index: dict[str, int]) -> str:
    items = []
    for field in fields:
        name = field.name
        if name == TYPENAME:
            value = repr("Case")
        elif name in CASE_COLUMNS:
            column, decoder = CASE_COLUMNS[name]
            value = source.decoded(decoder, f"row[{index[column]}]")
            if name in STAFF_ONLY_CASE_FIELDS:
                value = f"({value} if request.sees_internal else None)"
        elif name in CASE_USERS:
            value = _joined(source, field.children, "User", USER_COLUMNS, index, name)
        elif name == "assignmentGroup":
            value = _joined(source, field.children, "AssignmentGroup", GROUP_COLUMNS, index, name)
        elif name == "caseType":
            value = _joined(source, field.children, "CaseType", CASE_TYPE_COLUMNS, index, name)
        elif name == "tasks":
            value = f"[{_task_object(source, field.children)} for t in nested(row[{index['tasks']}])]"
        elif name == "slaTimers":
            value = (
                f"[{_timer_object(source, field.children)} for t, r, v in "
                f"timer_views(row[{index['timers']}], row[{index['business_hours']}], request, "
                f"{source.native_times})]"
            )
        else:  # pragma: no cover - the planner admits only the fields above
            raise AssertionError(f"unplanned Case field {name}")
        items.append(f"{field.key!r}: {value}")
    return "{" + ", ".join(items) + "}"


def _joined(
    source: _Source,
    fields: Sequence[Field],
    type_name: str,
    columns: dict[str, tuple[str, Decoder]],
    index: dict[str, int],
    prefix: str,
) -> str:
    """A joined user, group or case type: null when the join found no row."""
    items = []
    for field in fields:
        if field.name == TYPENAME:
            items.append(f"{field.key!r}: {type_name!r}")
        else:
            decoder = columns[field.name][1]
            items.append(f"{field.key!r}: {source.decoded(decoder, f'row[{index[prefix + chr(46) + field.name]}]')}")
    return f"(None if row[{index[prefix + '.id']}] is None else {{{', '.join(items)}}})"


def _task_object(source: _Source, fields: Sequence[Field]) -> str:
    items = []
    for field in fields:
        if field.name == TYPENAME:
            items.append(f"{field.key!r}: 'CaseTask'")
        elif field.name == "assignee":
            inner = []
            for child in field.children:
                if child.name == TYPENAME:
                    inner.append(f"{child.key!r}: 'User'")
                else:
                    decoder = USER_COLUMNS[child.name][1]
                    inner.append(f"{child.key!r}: {source.decoded(decoder, f't[{ASSIGNEE_POSITIONS[child.name]}]')}")
            # Null without an assignee, and (as the loader's miss) when the user row is gone.
            items.append(f"{field.key!r}: (None if t[{ASSIGNEE_POSITIONS['id']}] is None else {{{', '.join(inner)}}})")
        else:
            decoder = TASK_COLUMNS[field.name][1]
            items.append(f"{field.key!r}: {source.decoded(decoder, f't[{TASK_POSITIONS[field.name]}]')}")
    return "{" + ", ".join(items) + "}"


# SlaTimer fields over (t: the stored row, r: its TimerRow, v: its view), as case_sla_timers sets them.
_TIMER_VALUES: Final[dict[str, Callable[[_Source], str]]] = {
    "kind": lambda s: s.decoded(TIMER_KIND_NAMES, f"t[{TIMER_POSITIONS['kind']}]"),
    "phase": lambda s: s.decoded(PHASE_NAMES, f"t[{TIMER_POSITIONS['phase']}]"),
    "targetMinutes": lambda s: "r.target_minutes",
    "elapsedSeconds": lambda s: "int(v.elapsed.total_seconds())",
    "remainingSeconds": lambda s: "int(v.remaining.total_seconds())",
    "paused": lambda s: "r.phase is PAUSED",
    "stopped": lambda s: "r.phase is STOPPED",
    "breached": lambda s: "v.breached",
    "dueAt": lambda s: "(None if v.due_at is None else v.due_at.isoformat())",
    "startedAt": lambda s: s.time(f"t[{TIMER_POSITIONS['started_at']}]"),
    "stoppedAt": lambda s: s.time(f"t[{TIMER_POSITIONS['stopped_at']}]"),
    "warnedAt50": lambda s: s.time(f"t[{TIMER_POSITIONS['warned_50_at']}]"),
    "warnedAt75": lambda s: s.time(f"t[{TIMER_POSITIONS['warned_75_at']}]"),
    "breachedAt": lambda s: s.time(f"t[{TIMER_POSITIONS['breached_at']}]"),
    TYPENAME: lambda s: "'SlaTimer'",
}


def _timer_object(source: _Source, fields: Sequence[Field]) -> str:
    return "{" + ", ".join(f"{f.key!r}: {_TIMER_VALUES[f.name](source)}" for f in fields) + "}"
