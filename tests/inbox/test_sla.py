"""SLA due times in business hours, warnings once, breaches escalated once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import close_old_connections
from django.utils import timezone

from hub.models import AuditLogEntry
from inbox import actions
from inbox.events import check_event
from inbox.models import (
    BusinessHours,
    Conversation,
    Event,
    Holiday,
    OpeningInterval,
    Priority,
    SlaPolicy,
)
from inbox.serializers import conversation_data
from inbox.sla import apply_sla, check_slas
from tests.factories import Personas
from tests.inbox_fixtures import inbound, make_inbox

pytestmark = pytest.mark.django_db
OSLO = ZoneInfo("Europe/Oslo")


def oslo(*args: int) -> datetime:
    return datetime(*args, tzinfo=OSLO)  # type: ignore[misc]


@pytest.fixture
def policy() -> SlaPolicy:
    return SlaPolicy.objects.create(
        priority=Priority.NORMAL,
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=8 * 60,
        warning_minutes=15,
    )


def office_hours(people: Personas) -> BusinessHours:
    hours = BusinessHours.objects.create(team=people.support, time_zone="Europe/Oslo")
    for weekday in range(5):
        OpeningInterval.objects.create(hours=hours, weekday=weekday, opens=time(8), closes=time(16))
    return hours


def events(event_type: str) -> list[Event]:
    return list(Event.objects.filter(type=event_type))


def test_a_new_conversation_gets_due_times_and_shows_them(
    people: Personas, policy: SlaPolicy
) -> None:
    before = timezone.now()
    conversation = inbound(make_inbox(people.support)).conversation
    conversation.refresh_from_db()
    assert conversation.first_response_due_at - before >= timedelta(minutes=60)
    assert conversation.first_response_due_at - timezone.now() <= timedelta(minutes=60)
    assert conversation.resolution_due_at - conversation.first_response_due_at == timedelta(hours=7)
    assert conversation.next_response_due_at is None
    shown = conversation_data(conversation)
    assert shown["first_response_due_at"] and shown["resolution_due_at"]
    assert shown["first_response_breached"] is False


def test_without_a_policy_nothing_is_due(people: Personas) -> None:
    conversation = inbound(make_inbox(people.support)).conversation
    conversation.refresh_from_db()
    assert conversation.first_response_due_at is None
    assert check_slas(timezone.now() + timedelta(days=30)) == {"warnings": 0, "breaches": 0}


def test_due_times_are_counted_in_the_teams_business_hours(
    people: Personas, policy: SlaPolicy
) -> None:
    office_hours(people)
    Holiday.objects.create(hours=people.support.business_hours, date=datetime(2026, 3, 30).date())
    inbox = make_inbox(people.support)
    conversation = Conversation(inbox=inbox, channel=inbox.channel, team=people.support)
    # Friday 27 March 2026, 15:30 Oslo (UTC+1): 30 minutes left that day, then the
    # weekend, the DST change and a Monday holiday: first response due Tuesday 08:30
    # (UTC+2); resolution (8 h: 30 min on Friday, 7.5 h on Tuesday) Tuesday 15:30.
    apply_sla(conversation, oslo(2026, 3, 27, 15, 30))
    assert conversation.first_response_due_at == oslo(2026, 3, 31, 8, 30)
    assert conversation.resolution_due_at == oslo(2026, 3, 31, 15, 30)


def test_reply_meets_the_first_response_and_a_customer_message_starts_the_next(
    people: Personas, policy: SlaPolicy
) -> None:
    inbox = make_inbox(people.support)
    conversation = inbound(inbox, thread_key="t1").conversation
    actions.do_reply(conversation, "We are on it", by=people.agent)
    conversation.refresh_from_db()
    assert conversation.first_response_at is not None
    assert conversation.next_response_due_at is None
    # Long after the first-response due time: met, so never breached.
    assert check_slas(timezone.now() + timedelta(hours=2))["breaches"] == 0
    conversation.refresh_from_db()
    assert not conversation.first_response_breached

    inbound(inbox, "Any news?", thread_key="t1")
    conversation.refresh_from_db()
    assert conversation.next_response_due_at is not None
    due = conversation.next_response_due_at
    inbound(inbox, "Hello??", thread_key="t1")
    conversation.refresh_from_db()
    assert conversation.next_response_due_at == due  # the clock runs from the first one
    actions.do_reply(conversation, "Here it is", by=people.agent)
    conversation.refresh_from_db()
    assert conversation.next_response_due_at is None


def test_resolving_stops_the_resolution_clock_and_reopening_restarts_it(
    people: Personas, policy: SlaPolicy
) -> None:
    conversation = inbound(make_inbox(people.support)).conversation
    actions.do_change_status(conversation, "resolved", by=people.agent)
    conversation.refresh_from_db()
    assert conversation.resolution_due_at is None
    assert check_slas(timezone.now() + timedelta(days=3))["breaches"] == 0
    actions.do_change_status(conversation, "open", by=people.agent)
    conversation.refresh_from_db()
    assert conversation.resolution_due_at > timezone.now() + timedelta(hours=7)


def test_a_warning_is_emitted_once_per_target(people: Personas, policy: SlaPolicy) -> None:
    conversation = inbound(make_inbox(people.support)).conversation
    conversation.refresh_from_db()
    due = conversation.first_response_due_at
    assert check_slas(due - timedelta(minutes=20)) == {"warnings": 0, "breaches": 0}
    assert check_slas(due - timedelta(minutes=10)) == {"warnings": 1, "breaches": 0}
    assert check_slas(due - timedelta(minutes=5)) == {"warnings": 0, "breaches": 0}
    [warning] = events("sla.warning")
    check_event(warning.type, warning.data)
    assert warning.data == {
        "conversation": conversation.pk,
        "target": "first_response",
        "due_at": due.isoformat(),
    }
    assert f"team.{people.support.pk}" in warning.audience_keys
    assert not any(key.startswith("partner.") for key in warning.audience_keys)


def test_a_breach_flags_the_conversation_and_escalates_to_the_teams_supervisor(
    people: Personas, policy: SlaPolicy
) -> None:
    conversation = inbound(make_inbox(people.support)).conversation
    conversation.refresh_from_db()
    due = conversation.first_response_due_at
    updates_before = len(events("conversation.updated"))
    assert check_slas(due + timedelta(seconds=1)) == {"warnings": 0, "breaches": 1}
    assert check_slas(due + timedelta(minutes=5))["breaches"] == 0
    conversation.refresh_from_db()
    assert conversation.first_response_breached
    assert conversation.sla_breached_at == due + timedelta(seconds=1)
    assert len(events("conversation.updated")) == updates_before + 1
    assert events("conversation.updated")[-1].data["conversation"]["first_response_breached"]
    [breach] = events("sla.breached")
    check_event(breach.type, breach.data)
    assert breach.data["target"] == "first_response"
    assert breach.data["supervisors"] == [people.supervisor.pk]
    assert f"user.{people.supervisor.pk}" in breach.audience_keys
    entry = AuditLogEntry.objects.get(action="conversation.sla_breached")
    assert entry.changes["escalated_to"] == [people.supervisor.pk]
    # The resolution target breaches separately later; the first breach time stays.
    assert check_slas(conversation.resolution_due_at + timedelta(seconds=1))["breaches"] == 1
    conversation.refresh_from_db()
    assert conversation.resolution_breached
    assert conversation.sla_breached_at == due + timedelta(seconds=1)


def test_a_breach_in_a_team_without_supervisors_goes_to_every_supervisor(
    people: Personas, policy: SlaPolicy
) -> None:
    conversation = inbound(make_inbox(people.billing)).conversation
    conversation.refresh_from_db()
    check_slas(conversation.first_response_due_at + timedelta(seconds=1))
    [breach] = events("sla.breached")
    assert sorted(breach.data["supervisors"]) == sorted([people.supervisor.pk, people.admin.pk])


def test_the_watch_command_runs_one_pass(people: Personas, policy: SlaPolicy) -> None:
    conversation = inbound(make_inbox(people.support)).conversation
    Conversation.objects.filter(pk=conversation.pk).update(
        first_response_due_at=timezone.now() - timedelta(minutes=1)
    )
    call_command("sla_watch", "--once")
    conversation.refresh_from_db()
    assert conversation.first_response_breached


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_watchers_at_once_escalate_a_breach_once(people: Personas, policy: SlaPolicy) -> None:
    conversations = [
        inbound(make_inbox(people.support, key=f"k{i}"), f"m{i}").conversation for i in range(5)
    ]
    later = datetime.now(UTC) + timedelta(hours=2)
    start = threading.Barrier(2)
    results: list[dict[str, int]] = []

    def watch() -> None:
        try:
            start.wait()
            results.append(check_slas(later))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=watch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r["breaches"] for r in results) == len(conversations)
    assert len(events("sla.breached")) == len(conversations)
    assert AuditLogEntry.objects.filter(action="conversation.sla_breached").count() == 5


def test_each_next_response_clock_warns_once(people: Personas, policy: SlaPolicy) -> None:
    inbox = make_inbox(people.support)
    conversation = inbound(inbox, thread_key="n").conversation
    actions.do_reply(conversation, "Looking", by=people.agent)
    for round_ in range(2):
        inbound(inbox, f"And now? {round_}", thread_key="n")
        conversation.refresh_from_db()
        due = conversation.next_response_due_at
        assert check_slas(due - timedelta(minutes=1))["warnings"] == 1
        assert check_slas(due - timedelta(seconds=30))["warnings"] == 0
        actions.do_reply(conversation, "Answer", by=people.agent)
    warnings = [e.data for e in events("sla.warning") if e.data["target"] == "next_response"]
    assert len(warnings) == 2
    assert warnings[0]["due_at"] != warnings[1]["due_at"]
