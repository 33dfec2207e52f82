"""The ring group: a call rings at most ten available agents at once (Twilio's limit
per <Dial>), the least recently offered first, so a big team takes turns; the screen
pop goes to the team (as before) and to the rung agents only."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.db import connection

from hub.models import TeamMembership, User
from inbox.models import AgentPresence, Conversation, Event, Inbox
from telephony.models import Call, CallStatus
from telephony.routing import agents_to_ring
from tests.factories import Personas, make_user
from tests.inbox_fixtures import inbound, make_inbox
from tests.telephony.conftest import call_params, ring_plan_nodes, twilio_post, twiml

pytestmark = pytest.mark.django_db

VOICE = "/telephony/twilio/voice/"
AVAILABLE = 25


@pytest.fixture
def big_team(people: Personas, phone_inbox: Inbox) -> list[User]:
    agents = [people.agent, people.teammate]
    for number in range(AVAILABLE - len(agents)):
        agent = make_user(f"ring{number}@hub.test", full_name=f"Ring Agent {number:02d}")
        TeamMembership.objects.create(team=people.support, user=agent)
        agents.append(agent)
    for agent in agents:
        AgentPresence.objects.update_or_create(user=agent, defaults={"effective": "online"})
    return agents


def place_call(number: int) -> tuple[Any, Call]:
    sid = f"CA{number:032d}"
    root = twiml(twilio_post(VOICE, call_params(sid=sid, caller=f"+1415555{number:04d}")))
    return root, Call.objects.get(sid=sid)


def test_a_call_rings_ten_of_25_available_agents_and_pops_only_their_screens(
    people: Personas, big_team: list[User]
) -> None:
    root, call = place_call(1)

    dial = root.find("Dial")
    assert dial is not None
    dialled = [leg.text for leg in dial]
    assert len(dialled) == 10
    assert len(call.rung_user_ids) == 10
    assert dialled == [f"agent-{pk}" for pk in call.rung_user_ids]
    assert set(call.rung_user_ids) <= {agent.pk for agent in big_team}
    pop = Event.objects.get(type="call.incoming")
    # The rule of before, bounded: the call's team plus each rung agent.
    assert pop.audience_keys == {
        f"team.{people.support.pk}",
        *(f"user.{pk}" for pk in call.rung_user_ids),
    }


def test_the_ring_group_rotates_to_the_least_recently_offered_agents(
    big_team: list[User],
) -> None:
    groups = [place_call(number)[1].rung_user_ids for number in range(1, 6)]

    assert not set(groups[0]) & set(groups[1])
    # The five never offered, then the longest waiting: the first call's group.
    never_offered = {a.pk for a in big_team} - set(groups[0]) - set(groups[1])
    assert never_offered <= set(groups[2])
    assert set(groups[2]) - never_offered <= set(groups[0])
    # Five calls of ten offers among 25 agents: everyone twice.
    offers = Counter(pk for group in groups for pk in group)
    assert set(offers.values()) == {2}
    assert len(offers) == AVAILABLE


@pytest.mark.parametrize(("configured", "rung"), [(3, 3), (10, 10), (40, 10)])
def test_the_ring_group_size_is_a_setting_capped_at_twilios_limit(
    big_team: list[User], settings: Any, configured: int, rung: int
) -> None:
    settings.TELEPHONY_RING_GROUP_SIZE = configured
    root, call = place_call(1)
    dial = root.find("Dial")
    assert dial is not None and len(list(dial)) == rung
    assert len(call.rung_user_ids) == rung


def test_the_ring_plan_counts_open_work_in_one_pass_over_the_conversations(
    people: Personas, big_team: list[User]
) -> None:
    """Not one count per online agent: with a correlated count PostgreSQL scanned the
    conversations once per agent (500 times per call in the benchmark) whenever its
    statistics called the table small. The least loaded still ring first."""
    if connection.vendor != "postgresql":
        pytest.skip("reads PostgreSQL's query plan")
    web = make_inbox(people.support, key="web")
    loaded = big_team[0]
    for text in ("one", "two"):
        conversation = inbound(web, text).conversation
        conversation.assignee = loaded
        conversation.save()
    plan = agents_to_ring(people.support)
    assert len(plan.available) == AVAILABLE
    assert plan.available[-1] == loaded.pk  # the most open work, last

    scans = [
        node
        for node in ring_plan_nodes(people.support.pk)
        if node.get("Relation Name") == Conversation._meta.db_table
    ]
    assert scans
    assert all(node["Actual Loops"] <= 1 for node in scans), scans


def test_the_ring_plan_reads_no_conversation_or_call_without_an_agent(
    people: Personas, big_team: list[User], phone_inbox: Inbox
) -> None:
    """Open conversations nobody has taken (a support queue's backlog) and calls nobody
    answered that are not over (ringing, or left so by a status callback that never
    came) can never add to an agent's load: the ring plan must not read them. It read
    each of them on every call, its statement growing with the backlog."""
    if connection.vendor != "postgresql":
        pytest.skip("reads PostgreSQL's query plan")
    web = make_inbox(people.support, key="web")
    backlog = 2_000
    Conversation.objects.bulk_create(
        Conversation(inbox=web, channel=web.channel, team=people.support, subject=f"Waiting {n}")
        for n in range(backlog)
    )
    Call.objects.bulk_create(
        Call(source="twilio", sid=f"CA{n:032d}", inbox=phone_inbox, team=people.support)
        for n in range(backlog)
    )
    loaded, on_a_call = big_team[0], big_team[1]
    taken = inbound(web, "taken").conversation
    taken.assignee = loaded
    taken.save()
    Call.objects.create(
        source="twilio",
        sid="CA" + "9" * 32,
        inbox=phone_inbox,
        team=people.support,
        status=CallStatus.IN_PROGRESS,
        answered_by=on_a_call,
    )
    with connection.cursor() as cursor:
        # Statistics, as autovacuum keeps them: the planner then knows the backlog.
        cursor.execute(f"ANALYZE {Conversation._meta.db_table}, {Call._meta.db_table}")

    plan = agents_to_ring(people.support)
    assert plan.busy == [on_a_call.pk]
    assert plan.available[-1] == loaded.pk  # the most open work, last

    with connection.cursor() as cursor:
        # The plan of a team of hundreds of agents (the benchmark's 500), for which one
        # pass over the conversations beats a look-up per agent; a team of 25 is
        # planned with the look-ups, which never meet a row without an agent.
        cursor.execute("SET LOCAL enable_nestloop = off")
    nodes = ring_plan_nodes(people.support.pk)

    # Rows read per scan of each table (a scan inside a join may run once per agent).
    read: Counter[str] = Counter()
    for node in nodes:
        if "Relation Name" in node:
            rows = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
            read[node["Relation Name"]] = max(read[node["Relation Name"]], rows)
    assert read[Conversation._meta.db_table] <= 1, nodes  # the one taken
    assert read[Call._meta.db_table] <= 1, nodes  # the one answered
