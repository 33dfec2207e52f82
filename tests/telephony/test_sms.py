"""SMS through Twilio Messaging: inbound into the unified inbox, agent replies out
through the REST API (a local fake of it), delivery reports back onto the message."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction

from hub.actions import PhoneInput, do_create_contact
from inbox import actions as inbox_actions
from inbox.models import Conversation, Event, Inbox, Message
from telephony.actions import deliver_due_sms
from telephony.models import SmsOutbox
from tests.conftest import login_client
from tests.factories import Personas
from tests.telephony.conftest import ACCOUNT_SID, OUR_NUMBER, FakeTwilio, twilio_post

pytestmark = pytest.mark.django_db(transaction=True)

SMS = "/telephony/twilio/sms/"
SMS_STATUS = "/telephony/twilio/sms/status/"


def sms_params(sid: str, body: str, sender: str = "+14155550132", **extra: str) -> dict:
    return {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": sid,
        "From": sender,
        "To": OUR_NUMBER,
        "Body": body,
        "NumMedia": "0",
        **extra,
    }


def test_an_inbound_sms_lands_in_the_inbox_on_the_senders_contact(
    people: Personas, sms_inbox: Inbox
) -> None:
    customer = do_create_contact("Dana", phones=[PhoneInput("(415) 555-0132")], country="US")
    response = twilio_post(SMS, sms_params("SM1", "My parcel never arrived"))
    assert response.status_code == 200
    assert response.content.strip().endswith(b"<Response />")
    message = Message.objects.get()
    assert message.body_text == "My parcel never arrived"
    assert message.conversation.channel == "sms"
    assert message.conversation.inbox == sms_inbox
    assert message.conversation.contact == customer
    assert message.conversation.team == people.support
    assert Event.objects.filter(type="message.created").count() == 1


def test_messages_from_one_number_share_a_conversation_and_retries_are_no_ops(
    people: Personas, sms_inbox: Inbox
) -> None:
    twilio_post(SMS, sms_params("SM1", "Hello"))
    twilio_post(SMS, sms_params("SM1", "Hello"))  # Twilio retried
    twilio_post(SMS, sms_params("SM2", "Anyone there?", sender="+1 (415) 555-0132"))
    twilio_post(SMS, sms_params("SM3", "Hi from Oslo", sender="+4722123456"))
    assert Message.objects.count() == 3
    conversations = Conversation.objects.order_by("id")
    assert [c.messages.count() for c in conversations] == [2, 1]


def test_an_mms_keeps_its_media_links(people: Personas, sms_inbox: Inbox) -> None:
    params = sms_params("MM1", "See photo", NumMedia="1", MediaUrl0="https://api.twilio.com/m/1")
    twilio_post(SMS, params)
    message = Message.objects.get()
    assert "https://api.twilio.com/m/1" in message.body_text
    assert message.metadata["media"] == ["https://api.twilio.com/m/1"]


def test_forged_or_unsigned_sms_is_refused_and_stored_nowhere(sms_inbox: Inbox) -> None:
    assert twilio_post(SMS, sms_params("SM1", "hi"), signature="").status_code == 403
    assert twilio_post(SMS, sms_params("SM1", "hi"), signature="Zm9yZ2Vk").status_code == 403
    assert Message.objects.count() == 0


def test_an_sms_from_a_withheld_number_is_a_bad_request(sms_inbox: Inbox) -> None:
    assert twilio_post(SMS, sms_params("SM1", "hi", sender="anonymous")).status_code == 400
    assert Message.objects.count() == 0


def test_an_agent_reply_goes_out_through_twilio_and_delivery_reports_update_it(
    people: Personas, sms_inbox: Inbox, fake_twilio: FakeTwilio
) -> None:
    twilio_post(SMS, sms_params("SM1", "When do you open?"))
    conversation = Conversation.objects.get()
    client = login_client(people.agent)
    response = client.post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"body": "We open at 9."},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content

    (request,) = fake_twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request["form"]["To"] == "+14155550132"
    assert request["form"]["From"] == OUR_NUMBER
    assert request["form"]["Body"] == "We open at 9."
    assert request["form"]["StatusCallback"].endswith(SMS_STATUS)
    assert request["auth"].startswith("Basic ")
    reply = Message.objects.get(direction="outbound")
    assert reply.status == "sent"
    assert reply.external_id == "SM" + "1".zfill(32)
    assert SmsOutbox.objects.get().status == "sent"

    report = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": reply.external_id,
        "MessageStatus": "delivered",
        "From": OUR_NUMBER,
        "To": "+14155550132",
    }
    assert twilio_post(SMS_STATUS, report).status_code == 200
    reply.refresh_from_db()
    assert reply.status == "delivered"
    # A late "sent" does not undo "delivered".
    twilio_post(SMS_STATUS, {**report, "MessageStatus": "sent"})
    reply.refresh_from_db()
    assert reply.status == "delivered"
    updated = Event.objects.filter(type="message.updated").order_by("id").last()
    assert updated.data["message"]["status"] == "delivered"


def test_an_undelivered_report_marks_the_reply_failed_with_the_error(
    people: Personas, sms_inbox: Inbox, fake_twilio: FakeTwilio
) -> None:
    twilio_post(SMS, sms_params("SM1", "hi"))
    reply = inbox_actions.do_reply(Conversation.objects.get(), "Hello!", by=people.agent)
    reply.refresh_from_db()
    report = {
        "MessageSid": reply.external_id,
        "MessageStatus": "undelivered",
        "ErrorCode": "30005",
        "From": OUR_NUMBER,
    }
    twilio_post(SMS_STATUS, report)
    reply.refresh_from_db()
    assert reply.status == "failed"
    assert "30005" in reply.error


def test_a_reply_is_only_sent_once_its_transaction_commits(
    people: Personas, sms_inbox: Inbox, fake_twilio: FakeTwilio
) -> None:
    twilio_post(SMS, sms_params("SM1", "hi"))
    conversation = Conversation.objects.get()
    with pytest.raises(RuntimeError), transaction.atomic():
        inbox_actions.do_reply(conversation, "Never sent", by=people.agent)
        raise RuntimeError("the request failed after the reply")
    assert fake_twilio.requests == []
    assert SmsOutbox.objects.count() == 0


def test_twilio_being_down_leaves_the_reply_queued_and_the_worker_sends_it_later(
    people: Personas, sms_inbox: Inbox, fake_twilio: FakeTwilio
) -> None:
    twilio_post(SMS, sms_params("SM1", "hi"))
    fake_twilio.fail_with = [503]
    reply = inbox_actions.do_reply(Conversation.objects.get(), "Back soon", by=people.agent)
    reply.refresh_from_db()
    assert reply.status == "queued"
    outbox = SmsOutbox.objects.get()
    assert outbox.status == "pending"
    assert outbox.attempts == 1
    assert "503" in outbox.last_error

    assert deliver_due_sms() == 0  # backing off: not due yet
    SmsOutbox.objects.update(next_attempt_at=outbox.created_at)
    assert deliver_due_sms() == 1
    reply.refresh_from_db()
    assert reply.status == "sent"
    assert len(fake_twilio.requests) == 2
    assert deliver_due_sms() == 0  # nothing sent twice


def test_a_reply_twilio_refuses_fails_for_good_with_the_reason(
    people: Personas, sms_inbox: Inbox, fake_twilio: FakeTwilio
) -> None:
    twilio_post(SMS, sms_params("SM1", "hi"))
    fake_twilio.fail_with = [400]
    reply = inbox_actions.do_reply(Conversation.objects.get(), "Hi", by=people.agent)
    reply.refresh_from_db()
    assert reply.status == "failed"
    assert "not valid" in reply.error
    assert SmsOutbox.objects.get().status == "failed"
    assert deliver_due_sms() == 0
    assert len(fake_twilio.requests) == 1


def test_the_worker_command_delivers_what_is_pending(
    people: Personas, sms_inbox: Inbox, fake_twilio: FakeTwilio
) -> None:
    twilio_post(SMS, sms_params("SM1", "hi"))
    fake_twilio.fail_with = [500]
    inbox_actions.do_reply(Conversation.objects.get(), "Hi", by=people.agent)
    SmsOutbox.objects.update(next_attempt_at=SmsOutbox.objects.get().created_at)
    call_command("sms_outbox", "--once")
    assert Message.objects.get(direction="outbound").status == "sent"
