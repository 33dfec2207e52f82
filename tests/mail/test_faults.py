"""The mail worker against services that fail for real: the IMAP connection cut in the
middle of a FETCH, and the SMTP server down for a while (DESIGN §8 fault tests)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from inbox import actions as inbox_actions
from inbox.models import Conversation, Message, MessageStatus
from mail import worker
from mail.models import Mailbox, OutboxItem, OutboxState
from tests.factories import Personas
from tests.mail import corpus
from tests.mail.conftest import MakeMailbox
from tests.mail.servers import Dovecot, SmtpServer
from tests.proxy import TcpProxy


@pytest.fixture
def imap_proxy(dovecot: Dovecot) -> Iterator[TcpProxy]:
    proxy = TcpProxy(dovecot.port)
    proxy.come_back()
    yield proxy
    proxy.go_down()


def questions(count: int) -> list[bytes]:
    return [
        corpus.plain(
            sender=f"Customer {n} <c{n}@shop.test>",
            subject=f"Question {n}",
            body=f"Question number {n} " + "details " * 200,
            message_id=f"<fault-{n}@shop.test>",
        )
        for n in range(count)
    ]


def test_an_imap_connection_dropped_mid_fetch_loses_and_doubles_nothing(
    make_mailbox: MakeMailbox, dovecot: Dovecot, imap_proxy: TcpProxy
) -> None:
    mailbox = make_mailbox()
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=imap_proxy.port)
    dovecot.deliver(mailbox.imap_user, *questions(8))
    # Enough for the greeting, login and folder selection, and part of the messages:
    # the server "crashes" while it is sending them.
    imap_proxy.cut_after(6_000)

    reports = worker.run_once()
    assert reports[mailbox.pk] is None  # the sync failed, and says so
    mailbox.refresh_from_db()
    assert mailbox.last_error
    stored_while_cut = Message.objects.count()
    assert stored_while_cut < 8

    imap_proxy.cut_after(None)
    worker.run_once()
    worker.run_once()
    bodies = sorted(Message.objects.values_list("body_text", flat=True))
    assert [body.split(" details")[0] for body in bodies] == [
        f"Question number {n}" for n in range(8)
    ]
    assert Conversation.objects.count() == 8


def test_an_smtp_server_down_for_a_while_gets_the_reply_exactly_once_when_back(
    make_mailbox: MakeMailbox, dovecot: Dovecot, smtp_server: SmtpServer, people: Personas
) -> None:
    mailbox = make_mailbox("support-email", smtp=smtp_server)
    dovecot.deliver(mailbox.imap_user, *questions(1))
    worker.run_once()
    conversation = Conversation.objects.get()
    smtp_server.stop()  # nothing listens on the port any more

    reply = inbox_actions.do_reply(conversation, "Your order left today.", by=people.agent)
    worker.run_once()
    worker.run_once()
    item = OutboxItem.objects.get(message=reply)
    assert item.state == OutboxState.PENDING
    assert item.attempts == 2
    assert item.last_error
    reply.refresh_from_db()
    assert reply.status == MessageStatus.QUEUED  # the agent sees it is not out yet

    back = SmtpServer(port=smtp_server.port)
    back.start()
    try:
        worker.run_once()
        worker.run_once()
        assert len(back.handler.received) == 1
        assert b"Your order left today." in back.handler.received[0].content
    finally:
        back.stop()
    item.refresh_from_db()
    assert item.state == OutboxState.SENT
    reply.refresh_from_db()
    assert reply.status == MessageStatus.SENT
