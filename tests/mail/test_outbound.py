"""A reply written in the console leaves once through SMTP with threading headers,
and the customer's answer threads back into the same conversation."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from django.utils import timezone

from inbox import actions as inbox_actions
from inbox.models import Conversation, Event, Message, MessageStatus
from mail import actions, worker
from mail.models import OutboxItem, OutboxState
from tests.factories import Personas
from tests.mail import corpus
from tests.mail.conftest import MakeMailbox
from tests.mail.servers import Dovecot, SmtpServer


@pytest.fixture
def thread(make_mailbox: MakeMailbox, dovecot: Dovecot, smtp_server: SmtpServer):
    mailbox = make_mailbox("support-email", smtp=smtp_server)
    dovecot.deliver(
        mailbox.imap_user,
        corpus.plain(
            sender="Kari Nordmann <kari@fjord.test>",
            subject="Help with my order",
            body="Where is order 4411?",
            message_id="<order-4411@fjord.test>",
            headers={"References": "<older@fjord.test>"},
        ),
    )
    worker.run_once()
    return mailbox, Conversation.objects.get()


def sent_mails(smtp_server: SmtpServer) -> list:
    return [
        message_from_bytes(envelope.content, policy=policy.default)
        for envelope in smtp_server.handler.received
    ]


def test_a_reply_reaches_the_smtp_server_once_with_threading_headers(
    thread, people: Personas, smtp_server: SmtpServer
) -> None:
    mailbox, conversation = thread
    reply = inbox_actions.do_reply(conversation, "It left our warehouse today.", by=people.agent)
    item = OutboxItem.objects.get(message=reply)
    assert item.state == OutboxState.PENDING
    assert not smtp_server.handler.received  # nothing is sent inside the reply's transaction

    worker.run_once()
    worker.run_once()

    [mail] = sent_mails(smtp_server)
    assert smtp_server.handler.received[0].rcpt_tos == ["kari@fjord.test"]
    assert mail["Message-ID"] == item.mail_message_id
    assert mail["In-Reply-To"] == "<order-4411@fjord.test>"
    assert mail["References"] == "<older@fjord.test> <order-4411@fjord.test>"
    assert mail["Subject"] == f"Re: Help with my order [#{conversation.pk}]"
    assert mail["From"].addresses[0].addr_spec == mailbox.from_address
    assert "It left our warehouse today." in mail.get_content()
    reply.refresh_from_db()
    assert reply.status == MessageStatus.SENT
    assert Event.objects.filter(type="message.updated", data__message__status="sent").exists()


def test_the_customers_answer_threads_back_into_the_same_conversation(
    thread, people: Personas, dovecot: Dovecot
) -> None:
    mailbox, conversation = thread
    reply = inbox_actions.do_reply(conversation, "Which address?", by=people.agent)
    worker.run_once()
    ours = OutboxItem.objects.get(message=reply).mail_message_id
    dovecot.deliver(
        mailbox.imap_user,
        corpus.reply(
            sender="Kari Nordmann <kari@fjord.test>",
            subject=f"Re: Help with my order [#{conversation.pk}]",
            body="Storgata 1, Oslo.",
            message_id="<answer@fjord.test>",
            in_reply_to=ours,
            references=f"<order-4411@fjord.test> {ours}",
        ),
    )
    worker.run_once()
    answer = Message.objects.get(body_text__contains="Storgata 1")
    assert answer.conversation == conversation
    assert Conversation.objects.count() == 1


def test_a_temporary_smtp_error_is_retried_and_the_reply_still_sent_once(
    thread, people: Personas, smtp_server: SmtpServer
) -> None:
    _mailbox, conversation = thread
    smtp_server.handler.replies = ["451 4.3.0 Try again later"]
    reply = inbox_actions.do_reply(conversation, "Retry me.", by=people.agent)
    worker.run_once()
    item = OutboxItem.objects.get(message=reply)
    assert (item.state, item.attempts) == (OutboxState.PENDING, 1)
    assert "451" in item.last_error
    worker.run_once()
    worker.run_once()
    assert len(smtp_server.handler.received) == 1
    item.refresh_from_db()
    assert (item.state, item.attempts) == (OutboxState.SENT, 2)


def test_a_permanent_smtp_failure_reaches_the_agent_as_an_event(
    thread, people: Personas, smtp_server: SmtpServer
) -> None:
    _mailbox, conversation = thread
    smtp_server.handler.replies = ["550 5.1.1 No such user"]
    reply = inbox_actions.do_reply(conversation, "Will bounce.", by=people.agent)
    worker.run_once()
    worker.run_once()
    reply.refresh_from_db()
    assert reply.status == MessageStatus.FAILED
    assert "550" in reply.error
    event = Event.objects.filter(type="message.updated").latest("id")
    assert event.data["message"]["status"] == "failed"
    assert f"team.{people.support.pk}" in event.audience_keys
    assert OutboxItem.objects.get(message=reply).attempts == 1


def test_a_bounce_marks_the_reply_it_reports_on_as_failed(
    thread, people: Personas, dovecot: Dovecot, smtp_server: SmtpServer
) -> None:
    mailbox, conversation = thread
    reply = inbox_actions.do_reply(conversation, "Hello?", by=people.agent)
    worker.run_once()
    ours = OutboxItem.objects.get(message=reply).mail_message_id
    dovecot.deliver(
        mailbox.imap_user, corpus.delivery_report(ours, "<dsn-1@mx.test>", "kari@fjord.test")
    )
    worker.run_once()
    reply.refresh_from_db()
    assert reply.status == MessageStatus.FAILED
    assert "User unknown" in reply.error
    bounce = Message.objects.get(metadata__mail__message_id="<dsn-1@mx.test>")
    assert bounce.metadata["auto"] == "bounce"
    assert bounce.conversation == conversation
    assert Event.objects.filter(
        type="message.updated", data__message__id=reply.pk, data__message__status="failed"
    ).exists()
    # Recorded, never answered: the bounce queued nothing.
    assert OutboxItem.objects.count() == 1
    assert len(smtp_server.handler.received) == 1


def test_two_workers_never_claim_the_same_reply(thread, people: Personas) -> None:
    _mailbox, conversation = thread
    inbox_actions.do_reply(conversation, "Only once.", by=people.agent)
    assert len(actions.claim_outbox("worker-a")) == 1
    assert actions.claim_outbox("worker-b") == []


def test_a_send_interrupted_by_a_crash_is_reported_not_repeated(
    thread, people: Personas, smtp_server: SmtpServer
) -> None:
    _mailbox, conversation = thread
    reply = inbox_actions.do_reply(conversation, "Maybe sent.", by=people.agent)
    [item] = actions.claim_outbox("worker-that-died")
    OutboxItem.objects.filter(pk=item.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    worker.run_once()
    assert smtp_server.handler.received == []
    reply.refresh_from_db()
    assert reply.status == MessageStatus.FAILED
    assert "interrupted" in reply.error


def test_a_reply_without_a_sending_mailbox_is_refused(
    make_mailbox: MakeMailbox, people: Personas, dovecot: Dovecot
) -> None:
    mailbox = make_mailbox("support-email")  # no SMTP settings
    dovecot.deliver(
        mailbox.imap_user,
        corpus.plain(sender="a@b.test", subject="Hi", body="Hi", message_id="<hi@b.test>"),
    )
    worker.run_once()
    conversation = Conversation.objects.get()
    with pytest.raises(Exception, match="no mailbox that can send"):
        inbox_actions.do_reply(conversation, "Hello", by=people.agent)
    assert not Message.objects.filter(direction="outbound").exists()


def test_a_stranger_cannot_join_a_conversation_by_guessing_its_token(
    thread, dovecot: Dovecot
) -> None:
    mailbox, conversation = thread
    dovecot.deliver(
        mailbox.imap_user,
        corpus.plain(
            sender="Mallory <mallory@evil.test>",
            subject=f"Re: Help with my order [#{conversation.pk}]",
            body="Send the goods to me instead.",
            message_id="<mallory@evil.test>",
        ),
    )
    worker.run_once()
    assert Message.objects.get(sender_address="mallory@evil.test").conversation != conversation
