"""Business-hours calendars for SLA clocks (pure: standard library only).

A calendar answers two questions: how much working time lies between two instants, and at which
instant a given amount of working time, counted from a start, will have passed. The two are exact
inverses, which is what lets the evaluator store a timer's next deadline as a plain instant.

``ALWAYS`` (24 × 7) is the default. ``WeeklyCalendar`` counts only weekly opening windows in one
time zone (local wall-clock times, so daylight-saving shifts move them with the clock) and skips
holidays (local dates).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY: Final = 24 * 60
# How far ahead add_working_time searches for opening hours before answering "never".
MAX_SEARCH_DAYS: Final = 3 * 366


class Weekday(str, Enum):
    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"

    @property
    def number(self) -> int:
        """0 for Monday … 6 for Sunday, as ``date.weekday()``."""
        return _WEEKDAY_NUMBERS[self]


# Looked up for every window of every day a timer spans (the queue computes many timers).
_WEEKDAY_NUMBERS: Final = {day: number for number, day in enumerate(Weekday)}


class Calendar(Protocol):
    def working_time(self, start: datetime, end: datetime) -> timedelta:
        """Working time in [start, end); zero when end is not after start."""
        ...

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime | None:
        """The first instant by which ``amount`` of working time has passed since ``start``.

        None when the calendar has no opening hours in the searchable future.
        """
        ...


class AlwaysOpen:
    """24 × 7: working time is wall-clock time."""

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        return max(end - start, timedelta(0))

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime | None:
        return start + max(amount, timedelta(0))


ALWAYS: Final = AlwaysOpen()


class CalendarError(ValueError):
    """A calendar definition that cannot be used; ``field`` names the offending part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Window:
    """Open on ``weekday`` from ``start_minute`` to ``end_minute`` (minutes after local midnight)."""

    weekday: Weekday
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class WeeklyCalendar:
    timezone: str
    windows: tuple[Window, ...]
    holidays: frozenset[date] = frozenset()

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        if end <= start:
            return timedelta(0)
        zone = ZoneInfo(self.timezone)
        day = start.astimezone(zone).date()
        last = end.astimezone(zone).date()
        total = timedelta(0)
        while day <= last:
            for opens, closes in self._intervals(day, zone):
                overlap = min(closes, end) - max(opens, start)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime | None:
        if amount <= timedelta(0):
            return start
        zone = ZoneInfo(self.timezone)
        day = start.astimezone(zone).date()
        remaining = amount
        for _ in range(MAX_SEARCH_DAYS):
            for opens, closes in self._intervals(day, zone):
                opens = max(opens, start)
                if closes <= opens:
                    continue
                if closes - opens >= remaining:
                    return opens + remaining
                remaining -= closes - opens
            day += timedelta(days=1)
        return None

    def _intervals(self, day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
        if day in self.holidays:
            return []
        weekday = day.weekday()
        return sorted(
            (_local(day, w.start_minute, zone), _local(day, w.end_minute, zone))
            for w in self.windows
            if w.weekday.number == weekday
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "windows": [
                {"weekday": w.weekday.value, "start": _hhmm(w.start_minute), "end": _hhmm(w.end_minute)}
                for w in self.windows
            ],
            "holidays": sorted(d.isoformat() for d in self.holidays),
        }


def _local(day: date, minute: int, zone: ZoneInfo) -> datetime:
    # 24:00 is the next day's midnight; computing it from that day keeps DST days right.
    extra_days, minute = divmod(minute, MINUTES_PER_DAY)
    local = datetime.combine(day + timedelta(days=extra_days), time(minute // 60, minute % 60), tzinfo=zone)
    return local.astimezone(UTC)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_hhmm(field: str, text: str) -> int:
    """Minutes after midnight of "HH:MM" (00:00 … 24:00)."""
    parts = text.strip().split(":")
    # ASCII digits only: "²".isdigit() holds, but int("²") fails.
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and len(p) == 2 for p in parts):
        raise CalendarError(field, f"{field} must be a time as HH:MM.")
    hours, minutes = int(parts[0]), int(parts[1])
    value = hours * 60 + minutes
    if minutes > 59 or value > MINUTES_PER_DAY:
        raise CalendarError(field, f"{field} must be between 00:00 and 24:00.")
    return value


def build_calendar(
    *, timezone: str, windows: Iterable[tuple[Weekday, str, str]], holidays: Iterable[date] = ()
) -> WeeklyCalendar:
    """A validated weekly calendar; raises CalendarError naming the bad part."""
    try:
        ZoneInfo(timezone)
    # OSError: the tzdata package opens the name as a file ("Europe" is a directory; a long
    # name is too long for a file name).
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CalendarError("timezone", "timezone must be an IANA time zone such as Europe/Paris.") from None
    parsed: list[Window] = []
    for index, (weekday, start, end) in enumerate(windows):
        opens = parse_hhmm(f"windows.{index}.start", start)
        closes = parse_hhmm(f"windows.{index}.end", end)
        if closes <= opens:
            raise CalendarError(f"windows.{index}.end", "A window must end after it starts.")
        parsed.append(Window(weekday, opens, closes))
    if not parsed:
        raise CalendarError("windows", "A calendar needs at least one opening window.")
    by_day: dict[Weekday, list[Window]] = {}
    for window in parsed:
        by_day.setdefault(window.weekday, []).append(window)
    for day_windows in by_day.values():
        day_windows.sort(key=lambda w: w.start_minute)
        for earlier, later in zip(day_windows, day_windows[1:]):
            if later.start_minute < earlier.end_minute:
                raise CalendarError("windows", "Windows of one day must not overlap.")
    return WeeklyCalendar(timezone=timezone, windows=tuple(parsed), holidays=frozenset(holidays))


def calendar_from_json(data: Mapping[str, Any] | None) -> Calendar:
    """The stored form back to a calendar; None (no business hours) is ``ALWAYS``."""
    if not data:
        return ALWAYS
    return build_calendar(
        timezone=str(data["timezone"]),
        windows=[(Weekday(w["weekday"]), str(w["start"]), str(w["end"])) for w in data.get("windows", [])],
        holidays=[date.fromisoformat(d) for d in data.get("holidays", [])],
    )
