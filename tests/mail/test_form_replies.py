"""An agent's reply to a lead from the website form leaves by e-mail through the mail
outbox and a real SMTP server (aiosmtpd), and the lead's e-mail answer threads back
into the form conversation (issue 11)."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from django.core.exceptions import ValidationError

from inbox import actions as inbox_actions
from inbox.leads import Lead, do_capture_lead
from inbox.models import Channel, Conversation, Message, MessageStatus
from mail import worker
from mail.models import Mailbox, OutboxItem
from tests.conftest import login_client
from tests.factories import Personas
from tests.inbox_fixtures import make_inbox
from tests.mail import corpus
from tests.mail.conftest import MakeMailbox
from tests.mail.servers import Dovecot, SmtpServer


def _lead(
    people: Personas, *, email: str = "kari@fjord.test", phone: str = "", address: str = ""
) -> Conversation:
    form = make_inbox(people.support, key="website", channel=Channel.FORM, address=address)
    lead = Lead("Kari Nordmann", email, phone, phone, "Do you ship to Tromsø?", f"s-{phone}")
    return do_capture_lead(form, lead).conversation


def test_a_reply_to_a_form_lead_is_mailed_to_them_and_their_answer_threads_back(
    people: Personas, make_mailbox: MakeMailbox, smtp_server: SmtpServer, dovecot: Dovecot
) -> None:
    mailbox = make_mailbox("sales-email", smtp=smtp_server)
    conversation = _lead(people, address=mailbox.from_address.upper())

    reply = inbox_actions.do_reply(conversation, "Yes, within three days.", by=people.agent)
    item = OutboxItem.objects.get(message=reply)
    assert (item.mailbox, item.to_address) == (mailbox, "kari@fjord.test")
    assert not smtp_server.handler.received  # queued in the reply's transaction only
    worker.send_outbox("test-worker")

    [envelope] = smtp_server.handler.received
    assert envelope.rcpt_tos == ["kari@fjord.test"]
    mail = message_from_bytes(envelope.content, policy=policy.default)
    assert mail["From"].addresses[0].addr_spec == mailbox.from_address
    assert mail["Message-ID"] == item.mail_message_id
    assert f"[#{conversation.pk}]" in mail["Subject"]
    assert "Yes, within three days." in mail.get_content()
    reply.refresh_from_db()
    assert reply.status == MessageStatus.SENT

    dovecot.deliver(
        mailbox.imap_user,
        corpus.reply(
            sender="Kari Nordmann <kari@fjord.test>",
            subject=mail["Subject"],
            body="Great, I will order today.",
            message_id="<answer-1@fjord.test>",
            in_reply_to=item.mail_message_id,
        ),
    )
    worker.run_once()
    answer = Message.objects.get(body_text__contains="I will order today")
    assert answer.conversation == conversation
    # The next reply answers the lead's e-mail, with its threading headers.
    second = inbox_actions.do_reply(conversation, "Thank you!", by=people.agent)
    item = OutboxItem.objects.get(message=second)
    assert (item.to_address, item.in_reply_to) == ("kari@fjord.test", "<answer-1@fjord.test>")


@pytest.mark.django_db
def test_without_an_address_the_teams_email_mailbox_sends(
    people: Personas, smtp_server: SmtpServer
) -> None:
    email_inbox = make_inbox(people.support, key="help", channel=Channel.EMAIL)
    mailbox = Mailbox.objects.create(
        inbox=email_inbox,
        imap_host="127.0.0.1",
        imap_user="help",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_security="none",
        from_address="help@hub.test",
    )
    conversation = _lead(people)
    reply = inbox_actions.do_reply(conversation, "Hello Kari", by=people.agent)
    assert OutboxItem.objects.get(message=reply).mailbox == mailbox
    worker.send_outbox("test-worker")
    assert smtp_server.handler.received[0].rcpt_tos == ["kari@fjord.test"]


@pytest.mark.django_db
def test_a_lead_without_an_email_address_or_a_form_without_a_mailbox_is_a_clear_400(
    people: Personas,
) -> None:
    conversation = _lead(people)
    with pytest.raises(ValidationError, match="No mailbox"):
        inbox_actions.do_reply(conversation, "Hello", by=people.agent)
    assert not Message.objects.filter(direction="outbound").exists()
    assert not OutboxItem.objects.exists()

    Mailbox.objects.create(
        inbox=make_inbox(people.support, key="help", channel=Channel.EMAIL),
        imap_host="127.0.0.1",
        imap_user="help",
        smtp_host="127.0.0.1",
        from_address="help@hub.test",
    )
    phone_only = do_capture_lead(
        conversation.inbox, Lead("Ola", "", "+4790000001", "+4790000001", "Call me", "s-2")
    ).conversation
    client = login_client(people.agent)
    response = client.post(
        f"/api/v1/conversations/{phone_only.pk}/messages/",
        {"body": "Hello"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "phone" in response.json()["body"][0]
    assert not OutboxItem.objects.exists()
