"""Assignment within a team: round robin, least loaded, capacity, presence, the team
queue, partners never, manual assignment (issue 7 item 2)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from hub.models import TeamMembership, User
from inbox import actions, presence
from inbox.models import (
    AgentPresence,
    AssignmentStrategy,
    ConversationStatus,
    Event,
    PresenceStatus,
    TeamAssignment,
)
from tests.factories import Personas, make_user
from tests.inbox.routing_fixtures import rule
from tests.inbox_fixtures import inbound, make_inbox

pytestmark = pytest.mark.django_db

TIMEOUT = timedelta(minutes=5)


def online(*users: User) -> None:
    for user in users:
        AgentPresence.objects.update_or_create(
            user=user,
            defaults={"chosen": PresenceStatus.ONLINE, "effective": PresenceStatus.ONLINE},
        )


def auto(team: Any, strategy: str = AssignmentStrategy.ROUND_ROBIN) -> TeamAssignment:
    return TeamAssignment.objects.create(team=team, strategy=strategy)


def arrivals(inbox: Any, count: int) -> list[Any]:
    return [inbound(inbox, f"message {n}", thread_key=f"t{n}").conversation for n in range(count)]


def test_round_robin_takes_turns_in_a_stable_order(people: Personas) -> None:
    auto(people.support)
    online(people.agent, people.teammate)
    inbox = make_inbox(people.support)

    assignees = [c.assignee for c in arrivals(inbox, 4)]

    assert assignees == [people.agent, people.teammate, people.agent, people.teammate]
    assert arrivals(inbox, 1)[0].routing_trace[-1] == "assigned to Alice Agent (round robin)"


def test_least_loaded_picks_the_agent_with_the_fewest_open_conversations(
    people: Personas,
) -> None:
    inbox = make_inbox(people.support)
    for conversation in arrivals(inbox, 3):  # no policy yet: they queue
        actions.do_assign(conversation, people.agent, by=people.supervisor)
    resolved = inbound(inbox, "done", thread_key="done").conversation
    actions.do_assign(resolved, people.teammate, by=people.supervisor)
    actions.do_change_status(resolved, ConversationStatus.RESOLVED, by=people.supervisor)
    auto(people.support, AssignmentStrategy.LEAST_LOADED)
    online(people.agent, people.teammate)

    new = [c.assignee for c in arrivals(make_inbox(people.support, key="b"), 4)]

    # Bob's resolved conversation does not count: 0, 1, 2 against Alice's 3, then a tie.
    assert new == [people.teammate, people.teammate, people.teammate, people.agent]


def test_capacity_is_respected_and_the_rest_waits_in_the_queue(people: Personas) -> None:
    auto(people.support)
    User.objects.filter(pk__in=[people.agent.pk, people.teammate.pk]).update(capacity=1)
    online(people.agent, people.teammate)

    first, second, third = arrivals(make_inbox(people.support), 3)

    assert (first.assignee, second.assignee, third.assignee) == (
        people.agent,
        people.teammate,
        None,
    )
    assert third.routing_trace[-1] == (
        "no online agent with free capacity in Support: waits in the team queue"
    )


@pytest.mark.parametrize("status", ["away", "offline", "never connected"])
def test_agents_who_are_not_online_get_no_new_work(people: Personas, status: str) -> None:
    auto(people.support)
    online(people.agent)
    if status != "never connected":
        AgentPresence.objects.create(user=people.teammate, chosen="away", effective=status)

    assignees = {c.assignee for c in arrivals(make_inbox(people.support), 3)}

    assert assignees == {people.agent}


def test_the_queue_drains_when_an_agent_comes_online(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    auto(people.support)
    waiting = arrivals(make_inbox(people.support), 2)
    assert [c.assignee for c in waiting] == [None, None]
    before = Event.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        presence.open_console_session(people.agent, "test", timeout=TIMEOUT)

    for conversation in waiting:
        conversation.refresh_from_db()
        assert conversation.assignee == people.agent
        assert conversation.routing_trace[-1] == (
            "from the queue: assigned to Alice Agent (round robin)"
        )
    updates = Event.objects.filter(pk__gt=before, type="conversation.updated")
    assert sorted(e.data["conversation"]["id"] for e in updates) == [c.pk for c in waiting]
    assert {e.data["conversation"]["assignee"] for e in updates} == {people.agent.pk}


def test_the_queue_drains_oldest_first_up_to_capacity(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    auto(people.support)
    User.objects.filter(pk=people.agent.pk).update(capacity=2)
    waiting = arrivals(make_inbox(people.support), 3)

    with django_capture_on_commit_callbacks(execute=True):
        presence.open_console_session(people.agent, "test", timeout=TIMEOUT)

    for conversation in waiting:
        conversation.refresh_from_db()
    assert [c.assignee for c in waiting] == [people.agent, people.agent, None]


def test_resolving_frees_capacity_for_the_next_in_the_queue(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    auto(people.support)
    User.objects.filter(pk=people.agent.pk).update(capacity=1)
    online(people.agent)
    first, second = arrivals(make_inbox(people.support), 2)
    assert (first.assignee, second.assignee) == (people.agent, None)

    with django_capture_on_commit_callbacks(execute=True):
        actions.do_change_status(first, ConversationStatus.RESOLVED, by=people.agent)

    second.refresh_from_db()
    assert second.assignee == people.agent


def test_reassigning_frees_the_previous_agents_capacity(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    auto(people.support)
    User.objects.filter(pk=people.agent.pk).update(capacity=1)
    online(people.agent)
    first, second = arrivals(make_inbox(people.support), 2)

    with django_capture_on_commit_callbacks(execute=True):
        actions.do_assign(first, people.teammate, by=people.supervisor)

    second.refresh_from_db()
    assert second.assignee == people.agent


def test_partners_are_never_assigned_internal_work(people: Personas) -> None:
    auto(people.support)
    TeamMembership.objects.create(team=people.support, user=people.partner_a)
    online(people.partner_a)

    conversations = arrivals(make_inbox(people.support), 2)

    assert [c.assignee for c in conversations] == [None, None]
    with pytest.raises(ValidationError):
        actions.do_assign(conversations[0], people.partner_a, by=people.supervisor)
    with pytest.raises(ValidationError, match="partners never"):
        rule(people.supervisor, "Partner", {}, {"assign": people.partner_a.email})


def test_a_partner_coming_online_takes_nothing_from_the_queue(
    people: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    auto(people.support)
    TeamMembership.objects.create(team=people.support, user=people.partner_a)
    waiting = arrivals(make_inbox(people.support), 1)[0]

    with django_capture_on_commit_callbacks(execute=True):
        presence.open_console_session(people.partner_a, "test", timeout=TIMEOUT)
        presence.open_console_session(people.other_agent, "test", timeout=TIMEOUT)

    waiting.refresh_from_db()
    assert waiting.assignee is None


def test_manual_assignment_ignores_presence_and_capacity(people: Personas) -> None:
    auto(people.support)
    User.objects.filter(pk=people.teammate.pk).update(capacity=0)
    conversation = arrivals(make_inbox(people.support), 1)[0]

    actions.do_assign(conversation, people.teammate, by=people.supervisor)

    conversation.refresh_from_db()
    assert conversation.assignee == people.teammate


def test_a_rule_assignment_skips_automatic_assignment(people: Personas) -> None:
    auto(people.support)
    online(people.agent)
    rule(people.supervisor, "To Bob", {}, {"assign": people.teammate.email})

    conversation = arrivals(make_inbox(people.support), 1)[0]

    assert conversation.assignee == people.teammate
    assert not any("round robin" in line for line in conversation.routing_trace)


def test_teams_without_automatic_assignment_keep_the_queue(people: Personas) -> None:
    online(people.agent)
    TeamAssignment.objects.create(team=people.billing, auto_assign=False)

    conversation = arrivals(make_inbox(people.support), 1)[0]

    assert conversation.assignee is None
    assert conversation.routing_trace[-1] == "team Support assigns by hand: waits in the team queue"


def test_round_robin_follows_the_team_a_rule_routed_to(people: Personas) -> None:
    auto(people.sales)
    sam2 = make_user("sue@hub.test", "sales", teams=(people.sales,), full_name="Sue Sales")
    online(people.salesperson, sam2, people.agent)

    conversations = [
        *arrivals(make_inbox(people.support), 1),
        inbound(make_inbox(people.support, key="q"), "a quote please").conversation,
        inbound(make_inbox(people.support, key="r"), "a quote please").conversation,
    ]

    assert conversations[0].assignee is None  # Support assigns by hand
    assert [c.assignee for c in conversations[1:]] == [people.salesperson, sam2]
