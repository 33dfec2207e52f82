"""Writes of the inbox's configuration that spans several rows: a team's business
hours with their opening intervals and holidays, saved all or nothing."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from hub import actions
from hub.models import User
from inbox.models import BusinessHours, Holiday, OpeningInterval


@transaction.atomic
def do_save_business_hours(
    hours: BusinessHours,
    intervals: list[dict[str, Any]] | None,
    holidays: list[dict[str, Any]] | None,
    *,
    by: User,
) -> BusinessHours:
    """Save the hours and, when given, replace their intervals and holidays; every row
    is validated by its model, and one bad row leaves everything as it was."""
    actions.do_save_record(hours, by=by, changes={"time_zone": hours.time_zone})
    if intervals is not None:
        hours.intervals.all().delete()
        for data in intervals:
            interval = OpeningInterval(hours=hours, **data)
            interval.full_clean()
            interval.save()
    if holidays is not None:
        hours.holidays.all().delete()
        for data in holidays:
            holiday = Holiday(hours=hours, **data)
            holiday.full_clean()
            holiday.save()
    return hours
