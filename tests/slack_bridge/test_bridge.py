"""Slack as a bridge: a conversation of a team with a Slack channel is mirrored there
as a thread; a reply in the thread reaches the customer on the conversation's own
channel (here e-mail, through the mail outbox), and a `!note` stays internal."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy

import pytest

from inbox import actions as inbox_actions
from inbox.models import Channel, ConversationNote, Direction, Message
from mail import worker as mail_worker
from mail.models import Mailbox, OutboxItem
from slack_bridge import worker
from slack_bridge.models import MirrorThread, SlackEvent, SlackUserLink, WorkState
from tests.factories import Personas
from tests.inbox_fixtures import make_inbox
from tests.mail.servers import SmtpServer
from tests.slack_bridge.conftest import SUPPORT_CHANNEL, Post, Slack, message_event
from tests.slack_bridge.fake_slack import FakeSlack


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def email_conversation(slack: Slack, people: Personas, smtp_server: SmtpServer):
    inbox = make_inbox(people.support, key="support-email", channel=Channel.EMAIL)
    Mailbox.objects.create(
        inbox=inbox,
        imap_host="127.0.0.1",
        imap_user="support@hub.test",
        imap_security="none",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_security="none",
        from_address="support@hub.test",
    )
    received = inbox_actions.receive_message(
        inbox,
        body_text="Where is order 4411?",
        sender_name="Kari Nordmann",
        sender_address="kari@fjord.test",
        subject="Order 4411",
        external_id="<order-4411@fjord.test>",
        metadata={"mail": {"message_id": "<order-4411@fjord.test>"}},
    )
    return received.conversation


def mirror_thread(fake_slack: FakeSlack) -> str:
    worker.run_once()
    root = fake_slack.posts(SUPPORT_CHANNEL)[0]
    assert "thread_ts" not in root
    return MirrorThread.objects.get(channel__channel_id=SUPPORT_CHANNEL).thread_ts


def test_a_conversation_of_the_team_is_mirrored_as_a_thread(
    email_conversation, fake_slack: FakeSlack
) -> None:
    thread_ts = mirror_thread(fake_slack)

    root, customer = fake_slack.posts(SUPPORT_CHANNEL)
    assert f"Conversation #{email_conversation.pk}" in root["text"]
    assert "Order 4411" in root["text"]
    assert "Kari Nordmann" in root["text"]
    assert customer["thread_ts"] == thread_ts
    assert "Where is order 4411?" in customer["text"]

    inbox_actions.receive_message(
        email_conversation.inbox,
        body_text="Any news?",
        sender_address="kari@fjord.test",
        sender_name="Kari Nordmann",
        conversation=email_conversation,
    )
    worker.run_once()
    *_, latest = fake_slack.posts(SUPPORT_CHANNEL)
    assert latest["thread_ts"] == thread_ts
    assert "Any news?" in latest["text"]
    assert len(fake_slack.posts(SUPPORT_CHANNEL)) == 3


def test_a_reply_in_the_slack_thread_reaches_the_email_customer_through_the_outbox(
    email_conversation, post_event: Post, people: Personas, fake_slack: FakeSlack, smtp_server
) -> None:
    thread_ts = mirror_thread(fake_slack)

    post_event(
        message_event(
            "It left our warehouse today.",
            channel=SUPPORT_CHANNEL,
            user="UALICE",
            thread_ts=thread_ts,
        )
    )
    worker.run_once()

    reply = Message.objects.get(direction=Direction.OUTBOUND)
    assert reply.conversation == email_conversation
    assert reply.author == people.agent
    item = OutboxItem.objects.get(message=reply)
    assert item.to_address == "kari@fjord.test"
    assert SlackUserLink.objects.get(slack_user_id="UALICE").user == people.agent

    mail_worker.send_outbox("test")

    [envelope] = smtp_server.handler.received
    assert envelope.rcpt_tos == ["kari@fjord.test"]
    mail = message_from_bytes(envelope.content, policy=policy.default)
    assert "It left our warehouse today." in mail.get_content()
    assert mail["In-Reply-To"] == "<order-4411@fjord.test>"
    # The agent's reply is not echoed into the thread it came from.
    assert all("warehouse" not in p["text"] for p in fake_slack.posts(SUPPORT_CHANNEL))


def test_a_note_prefix_keeps_the_message_internal(
    email_conversation, post_event: Post, people: Personas, fake_slack: FakeSlack, smtp_server
) -> None:
    thread_ts = mirror_thread(fake_slack)
    post_event(
        message_event(
            "!note check the stock before promising a date",
            channel=SUPPORT_CHANNEL,
            user="UALICE",
            thread_ts=thread_ts,
        )
    )
    worker.run_once()
    mail_worker.send_outbox("test")

    note = ConversationNote.objects.get()
    assert note.conversation == email_conversation
    assert note.body == "check the stock before promising a date"
    assert note.author == people.agent
    assert not note.shared_with.exists()
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()
    assert not OutboxItem.objects.exists()
    assert not smtp_server.handler.received


def test_an_unmapped_slack_user_cannot_answer_customers(
    email_conversation, post_event: Post, fake_slack: FakeSlack
) -> None:
    thread_ts = mirror_thread(fake_slack)
    post_event(
        message_event(
            "I'll take it", channel=SUPPORT_CHANNEL, user="USTRANGER", thread_ts=thread_ts
        )
    )
    worker.run_once()

    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()
    assert SlackEvent.objects.get(event_type="message").state == WorkState.SKIPPED
    notice = fake_slack.posts(SUPPORT_CHANNEL)[-1]
    assert notice["thread_ts"] == thread_ts
    assert "not linked to a hub user" in notice["text"]


def test_top_level_messages_in_a_team_channel_are_not_replies(
    email_conversation, post_event: Post, fake_slack: FakeSlack
) -> None:
    mirror_thread(fake_slack)
    post_event(message_event("lunch?", channel=SUPPORT_CHANNEL, user="UALICE"))
    worker.run_once()
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()


def test_conversations_of_other_teams_are_not_mirrored(
    slack: Slack, people: Personas, fake_slack: FakeSlack
) -> None:
    inbox = make_inbox(people.sales, key="sales-chat")
    inbox_actions.receive_message(inbox, body_text="Price list please", sender_name="Ola")
    worker.run_once()
    assert not fake_slack.posts(SUPPORT_CHANNEL)
    assert not MirrorThread.objects.exists()


def test_a_configured_mapping_to_a_partner_cannot_answer_from_the_team_channel(
    email_conversation, slack: Slack, post_event: Post, people: Personas, fake_slack: FakeSlack
) -> None:
    SlackUserLink.objects.create(
        workspace=slack.workspace, slack_user_id="UPARTNER", user=people.partner_a
    )
    thread_ts = mirror_thread(fake_slack)
    post_event(
        message_event("Shipped!", channel=SUPPORT_CHANNEL, user="UPARTNER", thread_ts=thread_ts)
    )
    worker.run_once()
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()
    assert not any(
        c.method == "users.info" and c.params.get("user") == "UPARTNER" for c in fake_slack.calls
    )


def test_a_configured_mapping_needs_no_lookup(
    email_conversation, slack: Slack, post_event: Post, people: Personas, fake_slack: FakeSlack
) -> None:
    SlackUserLink.objects.create(
        workspace=slack.workspace, slack_user_id="UBOBSLACK", user=people.teammate
    )
    thread_ts = mirror_thread(fake_slack)
    post_event(
        message_event("On its way.", channel=SUPPORT_CHANNEL, user="UBOBSLACK", thread_ts=thread_ts)
    )
    worker.run_once()
    assert Message.objects.get(direction=Direction.OUTBOUND).author == people.teammate
