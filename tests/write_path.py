"""A busy configuration for the statement-count tests of the inbound write path:
several routing rules (one matching, one reading the contact's facts), SLA policies
for every priority, business hours, round-robin assignment and several online
agents with phone lines. A statement per rule, per agent or per policy inside a
loop shows up as several extra statements, over the tests' maxima."""

from __future__ import annotations

from datetime import time

from django.db import connection
from django.test.utils import CaptureQueriesContext

from hub.models import Contact, TeamMembership
from inbox.models import (
    AgentPresence,
    BusinessHours,
    OpeningInterval,
    Priority,
    SlaPolicy,
    TeamAssignment,
)
from telephony.models import AgentLine
from tests.factories import Personas, make_user
from tests.inbox.routing_fixtures import gold_customer, rule

ONLINE_AGENTS = 5


def busy_configuration(people: Personas) -> Contact:
    """Returns a known customer (gold account, tags, an open deal, phone and e-mail)."""
    for name in ("billing words", "returns words", "press words"):
        rule(people.supervisor, name, {"words": [name.split()[0]]}, {"priority": "low"})
    rule(people.supervisor, "gold customers", {"tier": ["gold"]}, {"priority": "high"})
    rule(people.supervisor, "everything", {}, {"priority": "normal"}, position=200)
    for minutes, priority in enumerate(Priority.values, start=1):
        SlaPolicy.objects.create(
            priority=priority,
            first_response_minutes=60 * minutes,
            next_response_minutes=120 * minutes,
            resolution_minutes=480 * minutes,
        )
    hours = BusinessHours.objects.create(team=people.support, time_zone="Europe/Oslo")
    for weekday in range(7):
        OpeningInterval.objects.create(hours=hours, weekday=weekday, opens=time(0), closes=time(0))
    TeamAssignment.objects.create(team=people.support, auto_assign=True)
    agents = [people.agent, people.teammate]
    for number in range(ONLINE_AGENTS - len(agents)):
        agent = make_user(f"agent{number}@hub.test", full_name=f"Agent {number}")
        TeamMembership.objects.create(team=people.support, user=agent)
        agents.append(agent)
    for number, agent in enumerate(agents):
        AgentPresence.objects.update_or_create(user=agent, defaults={"effective": "online"})
        AgentLine.objects.create(user=agent, forward_number=f"+4791234{number:03d}")
    return gold_customer(owner=people.salesperson)


def statements(context: CaptureQueriesContext) -> list[str]:
    """The statements run, without transaction control (BEGIN, COMMIT, savepoints),
    which differs between the databases and is not what these tests are about."""
    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")
    return [
        query["sql"]
        for query in context.captured_queries
        if not query["sql"].upper().startswith(control)
    ]


def capture() -> CaptureQueriesContext:
    return CaptureQueriesContext(connection)
