"""Outside its business hours a team's phone goes to voicemail (issue 7)."""

from __future__ import annotations

from datetime import time

import pytest
from django.utils import timezone

from inbox.models import BusinessHours, OpeningInterval
from telephony.routing import agents_to_ring, is_open_now
from tests.factories import Personas

pytestmark = pytest.mark.django_db


def test_a_team_outside_its_hours_sends_callers_to_voicemail(people: Personas) -> None:
    assert is_open_now(people.support)  # no business hours: 24/7
    hours = BusinessHours.objects.create(team=people.support, time_zone="UTC")
    other_day = (timezone.now().weekday() + 3) % 7
    OpeningInterval.objects.create(hours=hours, weekday=other_day, opens=time(9), closes=time(17))
    assert not is_open_now(people.support)
    assert agents_to_ring(people.support).outcome == "voicemail"
    OpeningInterval.objects.create(
        hours=hours, weekday=timezone.now().weekday(), opens=time(0), closes=time(0)
    )
    assert is_open_now(people.support)
