"""Routing rules: each condition kind, ordering, the stop flag, every action, and the
trace agents read (issue 7 items 1 and 6)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from hub.models import Contact, Tag, Task, Team
from inbox import notifications
from inbox.models import Channel, ConversationShare, Event, Message, Priority, RoutingRule
from inbox.notifications import Notification
from inbox.routing import team_for_new_conversation
from inbox.visibility import visible_conversations
from tests.conftest import login_client
from tests.factories import Personas
from tests.inbox.routing_fixtures import gold_customer, rule
from tests.inbox_fixtures import inbound, make_inbox

pytestmark = pytest.mark.django_db

# (conditions, message text, reason when it matches, or None when it must not)
CONDITION_CASES = [
    ({}, "Hello", "always"),
    ({"channel": ["email"]}, "Hello", "channel = email"),
    ({"channel": ["sms", "chat"]}, "Hello", None),
    ({"inbox": ["mailbox"]}, "Hello", "inbox = mailbox"),
    ({"inbox": ["other"]}, "Hello", None),
    (
        {"words": ["refund", "Broken"]},
        "My screen is broken, I want a REFUND",
        "words: broken, refund",
    ),
    ({"words": ["fund"]}, "I want a refund", None),
    ({"sales_intent": True}, "Could you send a quote?", "sales intent: quote"),
    ({"sales_intent": True}, "My order is late", None),
    ({"sales_intent": False}, "My order is late", "no sales intent"),
    ({"tier": ["gold", "platinum"]}, "Hello", "account tier = gold"),
    ({"tier": ["standard"]}, "Hello", None),
    ({"language": ["NB"]}, "Hello", "language = nb"),
    ({"language": ["de"]}, "Hello", None),
    ({"country": ["no", "se"]}, "Hello", "country = NO"),
    ({"country": ["DE"]}, "Hello", None),
    ({"tags": ["vip"]}, "Hello", "tag = vip"),
    ({"tags": ["churn-risk"]}, "Hello", None),
    # 500 employees 10 + 1 interaction 1 + just now 20 + deal 20000/50000 of 40 = 16
    ({"lead_score_at_least": 47}, "Hello", "lead score 47 ≥ 47"),
    ({"lead_score_at_least": 48}, "Hello", None),
    ({"deal_value_at_least": 20000}, "Hello", "open deal value 20000.00 ≥ 20000"),
    ({"deal_value_at_least": "20000.01"}, "Hello", None),
    ({"within_business_hours": True}, "Hello", "within business hours"),
    ({"within_business_hours": False}, "Hello", None),
    (
        {"tier": ["gold"], "words": ["invoice"]},
        "Where is my invoice?",
        "account tier = gold; words: invoice",
    ),
    ({"tier": ["gold"], "words": ["invoice"]}, "Where is my parcel?", None),
]


@pytest.mark.parametrize(("conditions", "text", "reason"), CONDITION_CASES)
def test_each_condition_kind(
    people: Personas, conditions: dict, text: str, reason: str | None
) -> None:
    contact = gold_customer()
    inbox = make_inbox(people.support, key="mailbox", channel=Channel.EMAIL)
    make_inbox(people.support, key="other")
    rule(people.supervisor, "Probe", conditions, {"priority": "urgent"})

    conversation = inbound(inbox, text, contact=contact, external_id="m1").conversation

    if reason is None:
        assert conversation.priority == Priority.NORMAL
        assert not any(line.startswith("rule 'Probe'") for line in conversation.routing_trace)
    else:
        assert conversation.priority == Priority.URGENT
        assert conversation.routing_trace[0] == f"rule 'Probe' matched: {reason}"


@pytest.mark.parametrize(("conditions", "text", "reason"), CONDITION_CASES)
def test_the_team_decided_before_the_write_is_the_team_routing_gives(
    people: Personas, conditions: dict, text: str, reason: str | None
) -> None:
    """An incoming call rings the team of team_for_new_conversation before its
    conversation is written: it must decide as routing then does, the lead score as
    this message leaves it included (47 above is reached only by counting it)."""
    contact = gold_customer()
    inbox = make_inbox(people.support, key="mailbox", channel=Channel.EMAIL)
    make_inbox(people.support, key="other")
    rule(people.supervisor, "Probe", conditions, {"team": "billing"})

    decided = team_for_new_conversation(inbox, contact=contact, subject="", body_text=text)
    conversation = inbound(inbox, text, contact=contact, external_id="m1").conversation

    assert decided == conversation.team
    assert (decided == people.billing) == (reason is not None)


RULE_CHAIN_CASES = [
    # (text, billing renamed away, expected team attribute of Personas)
    ("Please refund me", False, "support"),  # the stopping rule: no team, the default
    ("Could I get a quote?", False, "billing"),  # the later rule's team wins over sales
    ("Could I get a quote?", True, "sales"),  # its team is gone: sales intent decides
    ("Where is my parcel?", True, "support"),  # its team is gone, no intent: the default
]


@pytest.mark.parametrize(("text", "team_gone", "expected"), RULE_CHAIN_CASES)
def test_the_team_decided_before_the_write_follows_stops_and_fallbacks(
    people: Personas, text: str, team_gone: bool, expected: str
) -> None:
    """Beyond single conditions: a rule that stops processing, a rule whose team no
    longer exists, and the sales-intent and default-team fallbacks after them."""
    inbox = make_inbox(people.support, key="mailbox", channel=Channel.EMAIL)
    rule(
        people.supervisor,
        "Refunds stop here",
        {"words": ["refund"]},
        {"priority": "high"},
        position=1,
        stop_processing=True,
    )
    rule(people.supervisor, "Everything to billing", {}, {"team": "billing"}, position=2)
    if team_gone:
        Team.objects.filter(pk=people.billing.pk).update(slug="billing-retired")

    decided = team_for_new_conversation(inbox, contact=None, subject="", body_text=text)
    conversation = inbound(inbox, text, external_id="m1").conversation

    assert decided == conversation.team == getattr(people, expected)


def test_conditions_on_contact_attributes_without_an_account(people: Personas) -> None:
    contact = Contact.objects.create(name="Hans", language="de", country="DE")
    contact.tags.add(Tag.objects.create(name="trial"))
    inbox = make_inbox(people.support)
    rule(
        people.supervisor,
        "German trials",
        {"language": ["de"], "country": ["DE"], "tags": ["trial"]},
        {"team": "billing"},
    )
    rule(people.supervisor, "Gold", {"tier": ["gold"]}, {"priority": "high"})

    conversation = inbound(inbox, contact=contact).conversation

    assert conversation.team == people.billing
    assert conversation.priority == Priority.NORMAL
    assert conversation.routing_trace[0] == (
        "rule 'German trials' matched: country = DE; language = de; tag = trial"
    )


def test_an_anonymous_sender_matches_no_attribute_condition(people: Personas) -> None:
    inbox = make_inbox(people.support)
    for index, conditions in enumerate(
        [{"tier": ["standard"]}, {"lead_score_at_least": 0}, {"deal_value_at_least": 0}]
    ):
        rule(people.supervisor, f"r{index}", conditions, {"team": "billing"})

    conversation = inbound(inbox).conversation

    assert conversation.team == people.support
    assert conversation.routing_trace == [
        "inbox 'web inbox' default team: Support",
        "team Support assigns by hand: waits in the team queue",
    ]


def test_rules_run_in_position_order_and_the_last_team_wins(people: Personas) -> None:
    inbox = make_inbox(people.support)
    rule(people.supervisor, "Second", {}, {"team": "billing"}, position=20)
    rule(people.supervisor, "First", {}, {"team": "sales", "priority": "high"}, position=10)

    conversation = inbound(inbox).conversation

    assert conversation.team == people.billing
    assert conversation.priority == Priority.HIGH
    assert conversation.routing_trace[:4] == [
        "rule 'First' matched: always",
        "  → team Sales",
        "  → priority high",
        "rule 'Second' matched: always",
    ]


def test_equal_positions_run_in_creation_order(people: Personas) -> None:
    inbox = make_inbox(people.support)
    rule(people.supervisor, "Made first", {}, {"priority": "low"}, position=5)
    rule(people.supervisor, "Made second", {}, {"priority": "urgent"}, position=5)

    assert inbound(inbox).conversation.priority == Priority.URGENT


def test_stop_processing_ends_the_walk(people: Personas) -> None:
    inbox = make_inbox(people.support)
    rule(people.supervisor, "Stopper", {}, {"team": "sales"}, position=1, stop_processing=True)
    rule(people.supervisor, "Never", {}, {"team": "billing"}, position=2)

    conversation = inbound(inbox).conversation

    assert conversation.team == people.sales
    assert "rule 'Stopper' stops processing" in conversation.routing_trace
    assert not any("Never" in line for line in conversation.routing_trace)


def test_a_stop_rule_that_does_not_match_stops_nothing(people: Personas) -> None:
    inbox = make_inbox(people.support)
    rule(
        people.supervisor, "Stopper", {"channel": ["sms"]}, {"team": "sales"}, stop_processing=True
    )
    rule(people.supervisor, "Later", {}, {"team": "billing"}, position=200)

    assert inbound(inbox).conversation.team == people.billing


def test_inactive_rules_are_skipped(people: Personas) -> None:
    inbox = make_inbox(people.support)
    rule(people.supervisor, "Off", {}, {"team": "billing"}, is_active=False)

    assert inbound(inbox).conversation.team == people.support


def test_every_action_at_once(people: Personas, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[Notification] = []
    monkeypatch.setitem(notifications._notifiers, "slack", sent.append)
    contact = gold_customer(owner=people.salesperson)
    inbox = make_inbox(people.support, key="mailbox", channel=Channel.EMAIL)
    rule(
        people.supervisor,
        "Gold accounts",
        {"tier": ["gold"]},
        {
            "team": "sales",
            "assign": people.salesperson.email,
            "priority": "high",
            "add_tags": ["gold", "vip"],
            "create_task": {"title": "Call Olga back", "assignee": "account_owner"},
            "notify_slack": "C0GOLD",
            "share_with": "org-a",
        },
    )

    conversation = inbound(
        inbox, "Hello", contact=contact, subject="Renewal", external_id="m1"
    ).conversation

    conversation.refresh_from_db()
    assert conversation.team == people.sales
    assert conversation.assignee == people.salesperson
    assert conversation.priority == Priority.HIGH
    assert sorted(conversation.tags.values_list("name", flat=True)) == ["gold", "vip"]
    task = Task.objects.get(title="Call Olga back")
    assert (task.assignee, task.contact, task.account) == (
        people.salesperson,
        contact,
        contact.account,
    )
    assert sent == [
        Notification(
            "slack",
            "C0GOLD",
            f"New email conversation #{conversation.pk} matched 'Gold accounts': Renewal",
            conversation.pk,
        )
    ]
    assert ConversationShare.objects.filter(
        conversation=conversation, organization=people.org_a
    ).exists()
    assert conversation in visible_conversations(people.partner_a)
    assert conversation not in visible_conversations(people.partner_b)
    assert conversation.routing_trace == [
        "rule 'Gold accounts' matched: account tier = gold",
        "  → team Sales",
        "  → priority high",
        "  → assigned to Sam Sales",
        "  → tags gold, vip",
        "  → shared with partner Org A",
        "  → task 'Call Olga back' for Sam Sales",
        "  → Slack C0GOLD notified",
    ]


def test_a_task_without_an_assignee_goes_to_the_team(people: Personas) -> None:
    inbox = make_inbox(people.support)
    rule(people.supervisor, "Follow up", {}, {"team": "billing", "create_task": "Follow up"})

    inbound(inbox)

    task = Task.objects.get(title="Follow up")
    assert (task.assignee, task.team) == (None, people.billing)


def test_without_a_slack_notifier_the_trace_says_so_and_the_message_is_kept(
    people: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(notifications._notifiers, "slack", raising=False)
    inbox = make_inbox(people.support)
    rule(people.supervisor, "Tell Slack", {}, {"notify_slack": "C0ALERTS"})

    received = inbound(inbox, external_id="x1")

    assert Message.objects.filter(pk=received.message.pk).exists()
    assert received.conversation.routing_trace[:2] == [
        "rule 'Tell Slack' matched: always",
        "  Slack #C0ALERTS not notified: no Slack notifier is installed",
    ]


def test_the_trace_is_on_the_message_and_in_the_api(people: Personas) -> None:
    inbox = make_inbox(people.support)
    rule(people.supervisor, "Words", {"words": ["urgent"]}, {"priority": "urgent"})

    received = inbound(inbox, "This is urgent")

    response = login_client(people.agent).get(f"/api/v1/conversations/{received.conversation.pk}/")
    assert response.status_code == 200
    trace = response.json()["routing_trace"]
    assert trace[0] == "rule 'Words' matched: words: urgent"
    assert received.message.metadata["routing"] == trace


def test_routing_runs_once_per_conversation(people: Personas) -> None:
    inbox = make_inbox(people.support)
    rule(people.supervisor, "Tag it", {}, {"add_tags": ["seen"], "create_task": "Look"})

    first = inbound(inbox, thread_key="t", external_id="1")
    inbound(inbox, "again", thread_key="t", external_id="2")

    assert Task.objects.filter(title="Look").count() == 1
    assert first.conversation.messages.count() == 2


# ------------------------------------------------------------------ validation

INVALID_RULES = [
    ({"colour": ["red"]}, {"priority": "high"}, "conditions", "Unknown condition 'colour'"),
    ({"tier": ["bronze"]}, {"priority": "high"}, "conditions", "tier: bronze not one of"),
    ({"channel": "email"}, {"priority": "high"}, "conditions", "channel: give a non-empty list"),
    ({"inbox": ["nope"]}, {"priority": "high"}, "conditions", "inbox: no inbox with key nope"),
    ({"lead_score_at_least": "10"}, {"priority": "high"}, "conditions", "give a whole number"),
    ({"deal_value_at_least": "lots"}, {"priority": "high"}, "conditions", "give a number"),
    ({"within_business_hours": "yes"}, {"priority": "high"}, "conditions", "give true or false"),
    ({}, {}, "actions", "non-empty object"),
    ({}, {"team": "nope"}, "actions", "no team with slug 'nope'"),
    ({}, {"priority": "asap"}, "actions", "priority: 'asap' not one of"),
    ({}, {"assign": "pia@org-a.test"}, "actions", "partners never"),
    ({}, {"share_with": "org-z"}, "actions", "no active partner organization 'org-z'"),
    ({}, {"add_tags": []}, "actions", "add_tags: give a non-empty list"),
    ({}, {"create_task": {"title": ""}}, "actions", "create_task: give a title"),
    ({}, {"explode": True}, "actions", "Unknown action 'explode'"),
]


@pytest.mark.parametrize(("conditions", "actions", "field", "message"), INVALID_RULES)
def test_bad_rules_are_refused_with_a_clear_message(
    people: Personas, conditions: dict, actions: dict, field: str, message: str
) -> None:
    make_inbox(people.support, key="web")
    with pytest.raises(ValidationError) as error:
        rule(people.supervisor, "Bad", conditions, actions)

    assert message in " ".join(error.value.message_dict[field])
    assert not RoutingRule.objects.exists()


def test_only_supervisors_edit_rules_in_the_domain(people: Personas) -> None:
    with pytest.raises(Exception, match="Only supervisors"):
        rule(people.agent, "Mine", {}, {"priority": "high"})


def test_partners_never_read_the_trace_or_the_tags(people: Personas) -> None:
    inbox = make_inbox(people.support)
    rule(
        people.supervisor,
        "Both partners",
        {},
        {"share_with": "org-a", "add_tags": ["gold"]},
    )
    rule(people.supervisor, "And B", {}, {"share_with": "org-b"})
    conversation = inbound(inbox, external_id="p1").conversation
    url = f"/api/v1/conversations/{conversation.pk}/"

    staff = login_client(people.agent).get(url).json()
    partner = login_client(people.partner_b).get(url).json()

    assert staff["tags"] == ["gold"]
    assert "  → shared with partner Org A" in staff["routing_trace"]
    assert partner["partners"] == [people.org_b.pk]
    assert "routing_trace" not in partner
    assert "tags" not in partner
    created = Event.objects.get(type="conversation.created", conversation_id=conversation.pk)
    assert "routing_trace" not in created.data["conversation"]
