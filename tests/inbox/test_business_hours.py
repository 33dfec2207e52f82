"""Business-time arithmetic across day boundaries, weekends, holidays and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from inbox.business_hours import (
    Calendar,
    add_business_time,
    business_time_between,
    calendar_for,
    is_open,
)
from inbox.models import BusinessHours, Holiday, OpeningInterval
from tests.factories import Personas

OSLO = ZoneInfo("Europe/Oslo")
WEEKDAYS_8_TO_16 = {day: ((time(8), time(16)),) for day in range(5)}


def oslo(*args: int) -> datetime:
    return datetime(*args, tzinfo=OSLO)  # type: ignore[misc]


def office(**fields: object) -> Calendar:
    return Calendar(time_zone=OSLO, intervals=WEEKDAYS_8_TO_16, **fields)  # type: ignore[arg-type]


def test_no_business_hours_means_always_open() -> None:
    at = datetime(2026, 1, 3, 3, 0, tzinfo=UTC)  # a Saturday night
    assert is_open(None, at)
    assert add_business_time(None, at, timedelta(hours=5)) == at + timedelta(hours=5)
    assert business_time_between(Calendar(), at, at + timedelta(days=2)) == timedelta(days=2)


def test_open_and_closed_at_the_edges_of_a_day() -> None:
    cal = office()
    assert not is_open(cal, oslo(2026, 1, 5, 7, 59))  # Monday
    assert is_open(cal, oslo(2026, 1, 5, 8, 0))
    assert is_open(cal, oslo(2026, 1, 5, 15, 59))
    assert not is_open(cal, oslo(2026, 1, 5, 16, 0))
    assert not is_open(cal, oslo(2026, 1, 10, 12, 0))  # Saturday


def test_adding_time_carries_over_the_night() -> None:
    # Monday 15:00 + 2 business hours = Tuesday 09:00.
    assert add_business_time(office(), oslo(2026, 1, 5, 15), timedelta(hours=2)) == oslo(
        2026, 1, 6, 9
    )


def test_a_start_before_opening_counts_from_the_opening() -> None:
    assert add_business_time(office(), oslo(2026, 1, 5, 6), timedelta(minutes=30)) == oslo(
        2026, 1, 5, 8, 30
    )


def test_adding_time_skips_the_weekend() -> None:
    # Friday 15:00 + 3 h = Monday 10:00.
    friday = oslo(2026, 1, 9, 15)
    assert add_business_time(office(), friday, timedelta(hours=3)) == oslo(2026, 1, 12, 10)
    assert business_time_between(office(), friday, oslo(2026, 1, 12, 10)) == timedelta(hours=3)


def test_adding_time_skips_a_holiday_and_a_yearly_holiday() -> None:
    # 17 May 2027 is a Monday (yearly), 18 May 2027 a one-off closing day.
    cal = office(holidays=frozenset({date(2027, 5, 18)}), yearly_holidays=frozenset({(5, 17)}))
    friday = oslo(2027, 5, 14, 15)
    assert add_business_time(cal, friday, timedelta(hours=2)) == oslo(2027, 5, 19, 9)
    assert not is_open(cal, oslo(2027, 5, 17, 10))
    assert business_time_between(cal, friday, oslo(2027, 5, 19, 9)) == timedelta(hours=2)


def test_spring_forward_day_keeps_local_opening_hours() -> None:
    # Oslo moves from UTC+1 to UTC+2 on Sunday 29 March 2026 at 02:00. A 24/7
    # Sunday interval then has 23 real hours; Monday 08:00 is 06:00 UTC.
    cal = Calendar(time_zone=OSLO, intervals={6: ((time(0), time(0)),), 0: ((time(8), time(16)),)})
    saturday_night = oslo(2026, 3, 28, 23)
    assert business_time_between(cal, oslo(2026, 3, 29, 0), oslo(2026, 3, 30, 0)) == timedelta(
        hours=23
    )
    # 23 h of Sunday + 1 h of Monday.
    assert add_business_time(cal, saturday_night, timedelta(hours=24)) == datetime(
        2026, 3, 30, 7, tzinfo=UTC
    )
    assert is_open(cal, datetime(2026, 3, 30, 6, 0, tzinfo=UTC))
    assert not is_open(cal, datetime(2026, 3, 30, 5, 59, tzinfo=UTC))


def test_fall_back_day_keeps_local_opening_hours() -> None:
    # Oslo moves back to UTC+1 on Sunday 25 October 2026: that Sunday has 25 hours, and
    # Monday opens at 08:00 local = 07:00 UTC (06:00 UTC the Monday before).
    cal = Calendar(time_zone=OSLO, intervals={6: ((time(0), time(0)),), 0: ((time(8), time(16)),)})
    assert business_time_between(cal, oslo(2026, 10, 25, 0), oslo(2026, 10, 26, 0)) == timedelta(
        hours=25
    )
    assert add_business_time(
        cal, datetime(2026, 10, 23, 12, tzinfo=UTC), timedelta(hours=26)
    ) == datetime(2026, 10, 26, 8, tzinfo=UTC)
    assert is_open(cal, datetime(2026, 10, 26, 7, 0, tzinfo=UTC))
    assert not is_open(cal, datetime(2026, 10, 19, 5, 59, tzinfo=UTC))
    assert is_open(cal, datetime(2026, 10, 19, 6, 0, tzinfo=UTC))


def test_an_office_day_across_a_dst_change_is_eight_real_hours() -> None:
    # A week of office hours around the spring change: five days of eight hours.
    cal = office()
    assert business_time_between(cal, oslo(2026, 3, 23), oslo(2026, 4, 4)) == timedelta(hours=80)
    # Friday 27 March 15:00 (UTC+1) + 2 h = Monday 30 March 09:00 (UTC+2).
    assert add_business_time(cal, oslo(2026, 3, 27, 15), timedelta(hours=2)) == oslo(2026, 3, 30, 9)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        is_open(office(), datetime(2026, 1, 5, 9))


@pytest.mark.django_db
def test_a_team_calendar_comes_from_its_business_hours(people: Personas) -> None:
    assert calendar_for(people.support).always_open
    hours = BusinessHours.objects.create(team=people.support, time_zone="Europe/Oslo")
    for weekday in range(5):
        OpeningInterval.objects.create(hours=hours, weekday=weekday, opens=time(8), closes=time(16))
    Holiday.objects.create(hours=hours, date=date(2020, 12, 25), every_year=True)
    Holiday.objects.create(hours=hours, date=date(2026, 12, 24))
    assert is_open(people.support, oslo(2026, 12, 23, 9))
    assert not is_open(people.support, oslo(2026, 12, 24, 9))
    assert not is_open(people.support, oslo(2026, 12, 25, 9))
    assert is_open(people.sales, oslo(2026, 12, 25, 9))  # no hours: 24/7
    assert calendar_for(people.support) == office(
        holidays=frozenset({date(2026, 12, 24)}), yearly_holidays=frozenset({(12, 25)})
    )
