"""CSAT/CES/NPS surveys: sent once after resolution, answered once on a public page
with an unguessable token, aggregated with exact figures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from inbox import actions, surveys
from inbox.events import check_event
from inbox.models import Channel, Conversation, Event, Message, Survey
from mail.models import Mailbox, OutboxItem
from telephony.models import SmsOutbox
from tests.factories import Personas
from tests.inbox_fixtures import inbound, make_inbox

pytestmark = pytest.mark.django_db


def _resolved_chat(people: Personas, thread: str = "visitor:v1") -> Conversation:
    inbox = make_inbox(people.support)
    conversation = inbound(inbox, "Help", thread_key=thread).conversation
    actions.do_assign(conversation, people.agent, by=people.agent)
    actions.do_reply(conversation, "Done", by=people.agent)
    actions.do_change_status(conversation, "resolved", by=people.agent)
    return conversation


def test_resolving_sends_one_survey_link_that_the_chat_visitor_sees(people: Personas) -> None:
    conversation = _resolved_chat(people)
    survey = Survey.objects.get(conversation=conversation)
    assert len(survey.token) >= 40
    assert (survey.channel, survey.team, survey.agent) == ("chat", people.support, people.agent)
    message = Message.objects.get(conversation=conversation, metadata__survey=survey.pk)
    assert f"/survey/{survey.token}/" in message.body_text
    assert message.author is None and message.direction == "outbound"
    event = Event.objects.filter(type="message.created").order_by("-id").first()
    assert event is not None and " visitor.v1 " in event.audience
    assert event.data["message"]["id"] == message.pk
    check_event(event.type, event.data)

    # Reopened by the customer and resolved again: no second survey.
    inbound(conversation.inbox, "One more thing", thread_key="visitor:v1")
    actions.do_change_status(conversation, "resolved", by=people.agent)
    assert Survey.objects.filter(conversation=conversation).count() == 1


def test_an_email_conversation_gets_its_survey_through_the_mail_outbox(people: Personas) -> None:
    inbox = make_inbox(people.support, key="mail", channel=Channel.EMAIL, address="help@hub.test")
    Mailbox.objects.create(
        inbox=inbox,
        imap_host="imap.hub.test",
        imap_user="help",
        smtp_host="smtp.hub.test",
        from_address="help@hub.test",
    )
    conversation = inbound(
        inbox, "Help", sender_address="customer@example.com", subject="Order"
    ).conversation
    actions.do_change_status(conversation, "resolved", by=people.agent)
    survey = Survey.objects.get(conversation=conversation)
    queued = OutboxItem.objects.get(message__metadata__survey=survey.pk)
    assert queued.to_address == "customer@example.com"
    assert survey.token in queued.message.body_text


def test_an_sms_conversation_gets_its_survey_through_the_sms_outbox(people: Personas) -> None:
    inbox = make_inbox(people.support, key="sms", channel=Channel.SMS, address="+4722000000")
    conversation = inbound(
        inbox, "Help", sender_address="+4790000001", thread_key="sms:+4790000001"
    ).conversation
    actions.do_change_status(conversation, "resolved", by=people.agent)
    survey = Survey.objects.get(conversation=conversation)
    queued = SmsOutbox.objects.get(message__metadata__survey=survey.pk)
    assert survey.token in queued.message.body_text


def test_a_channel_that_cannot_carry_the_link_gets_no_survey_and_still_resolves(
    people: Personas,
) -> None:
    inbox = make_inbox(people.support, key="mail", channel=Channel.EMAIL)  # no mailbox
    conversation = inbound(inbox, "Help", sender_address="customer@example.com").conversation
    actions.do_change_status(conversation, "resolved", by=people.agent)
    conversation.refresh_from_db()
    assert conversation.status == "resolved"
    assert not Survey.objects.filter(conversation=conversation).exists()
    assert not Message.objects.filter(conversation=conversation, direction="outbound").exists()


def test_surveys_can_be_switched_off(people: Personas, settings: object) -> None:
    settings.SURVEYS_ENABLED = False  # type: ignore[attr-defined]
    conversation = _resolved_chat(people)
    assert not Survey.objects.filter(conversation=conversation).exists()


def test_the_public_page_takes_one_answer_and_refuses_bad_tokens(people: Personas) -> None:
    survey = Survey.objects.get(conversation=_resolved_chat(people))
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"/survey/{survey.token}/")
    assert page.status_code == 200
    assert 'name="nps"' in page.content.decode()
    assert Client().get("/survey/not-a-token/").status_code == 404
    assert Client().post("/survey/not-a-token/", {"csat": 5}).status_code == 404

    # Without the CSRF token the post is refused.
    assert (
        client.post(f"/survey/{survey.token}/", {"csat": 5, "ces": 6, "nps": 9}).status_code == 403
    )
    csrf = client.cookies["csrftoken"].value
    bad = client.post(
        f"/survey/{survey.token}/", {"csat": 9, "ces": 6, "nps": 9, "csrfmiddlewaretoken": csrf}
    )
    assert bad.status_code == 400
    survey.refresh_from_db()
    assert survey.answered_at is None and survey.csat is None

    answer = {"csat": 5, "ces": 6, "nps": 9, "comment": "Quick!", "csrfmiddlewaretoken": csrf}
    assert client.post(f"/survey/{survey.token}/", answer).status_code == 200
    survey.refresh_from_db()
    assert (survey.csat, survey.ces, survey.nps, survey.comment) == (5, 6, 9, "Quick!")
    first_answer_at = survey.answered_at

    # A second answer (double submit, replay) changes nothing.
    again = {**answer, "csat": 1, "nps": 0}
    assert client.post(f"/survey/{survey.token}/", again).status_code == 200
    survey.refresh_from_db()
    assert (survey.csat, survey.nps, survey.answered_at) == (5, 9, first_answer_at)
    assert surveys.do_answer_survey(survey, {"csat": "1", "ces": "1", "nps": "0"}) is False


def test_scores_aggregate_to_csat_percent_ces_average_and_nps(people: Personas) -> None:
    inbox = make_inbox(people.support)
    answers = [  # (csat, ces, nps)
        (5, 7, 10),
        (4, 6, 10),
        (3, 5, 9),
        (2, 4, 8),
        (5, 3, 7),
        (1, 2, 6),
        (4, 1, 2),
        (5, 4, 10),
    ]
    for index, (csat, ces, nps) in enumerate(answers):
        conversation = inbound(inbox, "Hi", thread_key=f"t{index}").conversation
        survey = Survey.objects.create(
            conversation=conversation,
            token=f"token-{index}",
            channel="chat",
            sent_at=timezone.now(),
        )
        assert surveys.do_answer_survey(survey, {"csat": csat, "ces": ces, "nps": nps})
    unanswered = inbound(inbox, "Hi", thread_key="none").conversation
    Survey.objects.create(
        conversation=unanswered, token="unanswered", channel="chat", sent_at=timezone.now()
    )
    scores = surveys.aggregate(Survey.objects.all())
    assert scores.answered == 8
    assert scores.csat_percent == 62.5  # 5 of 8 answered 4 or 5
    assert scores.ces_average == 4.0  # 32 / 8
    assert scores.nps == 25.0  # promoters 4 (10, 10, 9, 10) - detractors 2 (6, 2), of 8
    none = surveys.aggregate(Survey.objects.filter(sent_at__lt=timezone.now() - timedelta(days=1)))
    assert (none.answered, none.csat_percent, none.ces_average, none.nps) == (0, None, None, None)
