"""Business hours per team and SLA policies per priority (issue 7)."""

from __future__ import annotations

import zoneinfo
from datetime import time

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from inbox.models.conversations import Priority


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(
            _("%(value)s is not a time zone."), params={"value": value}
        ) from error


class BusinessHours(models.Model):
    """A team's opening hours. A team without any (or with no intervals) is open 24/7."""

    team = models.OneToOneField(
        "hub.Team", on_delete=models.CASCADE, related_name="business_hours", verbose_name=_("team")
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )

    class Meta:
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")

    def __str__(self) -> str:
        return f"{self.team} ({self.time_zone})"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OpeningInterval(models.Model):
    """Open from `opens` to `closes` local wall time on a weekday; `closes` 00:00 means
    midnight at the end of the day."""

    hours = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="intervals")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["weekday", "opens"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"

    def clean(self) -> None:
        if self.closes != time(0) and self.closes <= self.opens:
            raise ValidationError(_("An interval closes after it opens (00:00 = midnight)."))


class Holiday(models.Model):
    """A closed day. `every_year`: the same month and day every year (e.g. 17 May)."""

    hours = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)
    every_year = models.BooleanField(_("every year"), default=False)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.name or 'Holiday'} {self.date}"


class SlaTarget(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")


class SlaPolicy(models.Model):
    """Targets for one priority, in business minutes of the conversation's team.
    An empty target means none."""

    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, unique=True)
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    warning_minutes = models.PositiveIntegerField(
        _("warn before"), default=15, help_text=_("sla.warning this many minutes before a breach")
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return f"SLA {self.priority}"
