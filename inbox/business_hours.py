"""Business-time arithmetic: pure functions over a team's opening hours.

Opening intervals are local wall times, so each day is computed in the calendar's
time zone and turned into UTC instants for that date: a 08:00-16:00 day is eight
real hours even on the day clocks change, and 08:00 stays 08:00 local on both sides
of a daylight-saving change. A team without business hours is open 24/7.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hub import config_cache
from hub.models import Team
from inbox.models import BusinessHours, OpeningInterval

# How far add_business_time looks ahead before deciding a calendar never opens.
MAX_DAYS_AHEAD = 3 * 366


@dataclass(frozen=True)
class Calendar:
    """`intervals`: weekday (Monday 0) → sorted local (opens, closes); closes of
    00:00 means the end of the day. Empty intervals means always open."""

    time_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    intervals: dict[int, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    yearly_holidays: frozenset[tuple[int, int]] = frozenset()  # (month, day)

    @property
    def always_open(self) -> bool:
        return not any(self.intervals.values())

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.yearly_holidays

    def periods_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open periods of one local date, as aware UTC instants."""
        if self.is_holiday(day):
            return []
        periods = []
        for opens, closes in self.intervals.get(day.weekday(), ()):
            start = datetime.combine(day, opens, tzinfo=self.time_zone)
            if closes == time(0):
                end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.time_zone)
            else:
                end = datetime.combine(day, closes, tzinfo=self.time_zone)
            start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
            if end_utc > start_utc:
                periods.append((start_utc, end_utc))
        return sorted(periods)

    def periods_from(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open periods that end after `at`, in time order (starting from the local
        day before, so that nothing open at `at` is missed)."""
        day = at.astimezone(self.time_zone).date() - timedelta(days=1)
        for offset in range(MAX_DAYS_AHEAD):
            for start, end in self.periods_on(day + timedelta(days=offset)):
                if end > at:
                    yield start, end


ALWAYS_OPEN = Calendar()


def calendar_for(team_or_calendar: Team | Calendar | BusinessHours | None) -> Calendar:
    """The calendar of a team (or a calendar as is); 24/7 when none is configured."""
    if isinstance(team_or_calendar, Calendar):
        return team_or_calendar
    if team_or_calendar is None:
        return ALWAYS_OPEN
    if isinstance(team_or_calendar, BusinessHours):
        return _calendar(team_or_calendar, list(team_or_calendar.intervals.all()))
    team = team_or_calendar
    return config_cache.cached(f"calendar.team.{team.pk}", lambda: _team_calendar(team))


def _team_calendar(team: Team) -> Calendar:
    # The intervals with their hours in one query: hours without intervals are
    # open 24/7 whatever their holidays, so those are read only when it matters.
    rows = list(OpeningInterval.objects.filter(hours__team=team).select_related("hours"))
    return _calendar(rows[0].hours if rows else None, rows)


def _calendar(hours: BusinessHours | None, rows: list[OpeningInterval]) -> Calendar:
    if hours is None or not rows:
        return ALWAYS_OPEN
    intervals: dict[int, list[tuple[time, time]]] = {}
    for interval in rows:
        intervals.setdefault(interval.weekday, []).append((interval.opens, interval.closes))
    holidays = list(hours.holidays.all())
    return Calendar(
        time_zone=ZoneInfo(hours.time_zone),
        intervals={day: tuple(sorted(spans)) for day, spans in intervals.items()},
        holidays=frozenset(h.date for h in holidays if not h.every_year),
        yearly_holidays=frozenset((h.date.month, h.date.day) for h in holidays if h.every_year),
    )


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("business-time arithmetic needs aware datetimes")
    return at


def is_open(team_or_calendar: Team | Calendar | BusinessHours | None, at: datetime) -> bool:
    calendar = calendar_for(team_or_calendar)
    if calendar.always_open:
        return True
    at = _aware(at)
    for start, _end in calendar.periods_from(at):
        return start <= at
    return False


def add_business_time(
    team_or_calendar: Team | Calendar | BusinessHours | None,
    start: datetime,
    duration: timedelta,
) -> datetime:
    """The instant when `duration` of open time has passed since `start`. A start in
    closed time counts from the next opening."""
    calendar = calendar_for(team_or_calendar)
    start = _aware(start)
    if duration < timedelta(0):
        raise ValueError("duration must not be negative")
    if calendar.always_open:
        return start + duration
    remaining = duration
    for period_start, period_end in calendar.periods_from(start):
        begin = max(period_start, start)
        available = period_end - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise ValueError("the business hours never open")


def business_time_between(
    team_or_calendar: Team | Calendar | BusinessHours | None, a: datetime, b: datetime
) -> timedelta:
    """Open time from `a` to `b` (zero when `b` is not after `a`)."""
    calendar = calendar_for(team_or_calendar)
    a, b = _aware(a), _aware(b)
    if b <= a:
        return timedelta(0)
    if calendar.always_open:
        return b - a
    total = timedelta(0)
    for period_start, period_end in calendar.periods_from(a):
        if period_start >= b:
            break
        total += min(period_end, b) - max(period_start, a)
    return total
