"""Slack as a channel: a thread in a connected customer channel is one conversation,
and console replies are posted back into that thread through the Web API."""

from __future__ import annotations

from inbox import actions as inbox_actions
from inbox.models import Conversation, Event, Message, MessageStatus, RoutingRule
from inbox.visibility import visible_conversations
from slack_bridge import worker
from slack_bridge.models import SlackPost, WorkState
from tests.factories import Personas
from tests.slack_bridge.conftest import BOT_TOKEN, CUSTOMER_CHANNEL, Post, Slack, message_event
from tests.slack_bridge.fake_slack import FakeSlack


def test_a_thread_round_trip_both_ways(
    slack: Slack, post_event: Post, people: Personas, fake_slack: FakeSlack
) -> None:
    root = message_event("Our invoice &amp; delivery note differ", ts="1700000100.000100")
    post_event(root)
    post_event(
        message_event(
            "Invoice 7781, see attached", ts="1700000150.000200", thread_ts="1700000100.000100"
        )
    )
    worker.run_once()

    conversation = Conversation.objects.get()
    assert conversation.inbox == slack.inbox
    assert conversation.thread_key == f"{CUSTOMER_CHANNEL}:1700000100.000100"
    assert conversation.subject == "Our invoice & delivery note differ"
    assert conversation.team == people.support
    texts = list(conversation.messages.values_list("body_text", flat=True))
    assert texts == ["Our invoice & delivery note differ", "Invoice 7781, see attached"]
    first = conversation.messages.first()
    assert first.external_id == f"{CUSTOMER_CHANNEL}:1700000100.000100"
    assert first.sender_name == "Kari Nordmann"

    reply = inbox_actions.do_reply(conversation, "We are on it.", by=people.agent)
    assert SlackPost.objects.get(message=reply).state == WorkState.PENDING
    assert not fake_slack.posts(CUSTOMER_CHANNEL)  # nothing sent inside the transaction

    worker.run_once()

    [posted] = fake_slack.posts(CUSTOMER_CHANNEL)
    assert posted["text"] == "We are on it."
    assert posted["thread_ts"] == "1700000100.000100"
    assert fake_slack.calls[-1].token == BOT_TOKEN
    reply.refresh_from_db()
    assert reply.status == MessageStatus.SENT
    assert Event.objects.filter(type="message.updated", data__message__status="sent").exists()

    # Slack tells us about our own post: a bot message, never stored again.
    post_event(
        message_event(
            "We are on it.",
            user="UBOT",
            bot_id="BHUB",
            ts=reply.external_id.split(":")[1],
            thread_ts="1700000100.000100",
        )
    )
    worker.run_once()
    assert conversation.messages.count() == 3


def test_a_new_thread_is_a_new_conversation(slack: Slack, post_event: Post) -> None:
    post_event(message_event("First question"))
    post_event(message_event("Another question"))
    worker.run_once()
    assert Conversation.objects.count() == 2


def test_a_temporary_slack_error_is_retried_and_the_reply_posted_once(
    slack: Slack, post_event: Post, people: Personas, fake_slack: FakeSlack
) -> None:
    post_event(message_event("Hi", ts="1700000200.000001"))
    worker.run_once()
    fake_slack.failures["chat.postMessage"] = ["ratelimited"]
    reply = inbox_actions.do_reply(Conversation.objects.get(), "Hello!", by=people.agent)
    worker.run_once()
    post = SlackPost.objects.get(message=reply)
    # Retried within the same pass (no backoff in tests): one refused call, one post.
    assert len(fake_slack.posts(CUSTOMER_CHANNEL)) == 2
    assert (post.state, post.attempts) == (WorkState.DONE, 2)
    worker.run_once()
    assert len(fake_slack.posts(CUSTOMER_CHANNEL)) == 2


def test_a_permanent_slack_error_marks_the_reply_failed(
    slack: Slack, post_event: Post, people: Personas, fake_slack: FakeSlack
) -> None:
    post_event(message_event("Hi", ts="1700000300.000001"))
    worker.run_once()
    fake_slack.failures["chat.postMessage"] = ["channel_not_found"]
    reply = inbox_actions.do_reply(Conversation.objects.get(), "Hello!", by=people.agent)
    worker.run_once()
    worker.run_once()
    reply.refresh_from_db()
    assert reply.status == MessageStatus.FAILED
    assert "channel_not_found" in reply.error
    assert SlackPost.objects.get(message=reply).state == WorkState.FAILED
    assert Message.objects.filter(status=MessageStatus.FAILED).count() == 1


def test_a_partner_channel_is_shared_with_its_partner_by_a_routing_rule(
    slack: Slack, post_event: Post, people: Personas
) -> None:
    # The documented set-up for a Slack Connect channel with a supplier: a rule on
    # the channel's inbox shares every conversation of it with the supplier.
    RoutingRule.objects.create(
        name="Fjord supplier channel",
        position=1,
        conditions={"inbox": [slack.inbox.key]},
        actions={"share_with": people.org_a.slug},
    )
    post_event(message_event("Pallet 12 is damaged"))
    worker.run_once()

    conversation = Conversation.objects.get()
    assert list(conversation.shares.values_list("organization", flat=True)) == [people.org_a.pk]
    assert (
        conversation.routing_trace[0]
        == "rule 'Fjord supplier channel' matched: inbox = slack-fjord"
    )
    assert visible_conversations(people.partner_a).filter(pk=conversation.pk).exists()
    assert not visible_conversations(people.partner_b).filter(pk=conversation.pk).exists()
