"""Status callbacks move the call along: an agent answering takes the call, an
unanswered call leaves a call-back task, a voicemail lands on its conversation."""

from __future__ import annotations

from typing import Any

import pytest

from hub.actions import PhoneInput, do_create_contact
from hub.models import Task
from inbox.models import AgentPresence, Event, Inbox
from telephony.models import Call
from tests.factories import Personas
from tests.telephony.conftest import call_params, sign, twilio_post, twiml

pytestmark = pytest.mark.django_db

VOICE = "/telephony/twilio/voice/"
STATUS = "/telephony/twilio/voice/status/"
RECORDING = "/telephony/twilio/voice/recording/"
SID = "CA" + "7" * 32


def ring(people: Personas, *, online: bool = True, caller: str = "+14155550132") -> Call:
    if online:
        AgentPresence.objects.update_or_create(user=people.agent, defaults={"effective": "online"})
    twiml(twilio_post(VOICE, call_params(sid=SID, caller=caller)))
    return Call.objects.get(sid=SID)


def status(call_status: str, **extra: str) -> Any:
    return twilio_post(STATUS, call_params(sid=SID, CallStatus=call_status, **extra))


def updates() -> list[dict[str, Any]]:
    return [e.data["call"] for e in Event.objects.filter(type="call.updated").order_by("id")]


@pytest.mark.parametrize("call_status", ["ringing", "in-progress", "completed"])
def test_each_status_updates_the_call_and_is_pushed(
    people: Personas, phone_inbox: Inbox, call_status: str
) -> None:
    ring(people)
    if call_status == "ringing":
        status("in-progress")
    assert status(call_status).status_code == 200
    assert Call.objects.get().status == call_status
    assert updates()[-1]["status"] == call_status


def test_the_agent_whose_leg_answers_takes_the_call_and_its_conversation(
    people: Personas, phone_inbox: Inbox
) -> None:
    call = ring(people)
    path = f"{STATUS}?agent={people.agent.pk}"
    leg = {
        "CallSid": "CA" + "8" * 32,
        "ParentCallSid": SID,
        "CallStatus": "in-progress",
        "To": f"client:agent-{people.agent.pk}",
    }
    # The agent id travels in the signed URL: changing it breaks the signature.
    forged = twilio_post(f"{STATUS}?agent={people.teammate.pk}", leg, signature=sign(path, leg))
    assert forged.status_code == 403
    assert twilio_post(path, leg).status_code == 200
    call.refresh_from_db()
    assert call.answered_by == people.agent
    assert call.status == "in-progress"
    assert call.conversation.assignee == people.agent
    assert updates()[-1]["answered_by"] == people.agent.pk
    status("completed", CallDuration="42")
    call.refresh_from_db()
    assert call.status == "completed"
    assert call.duration == 42
    assert Task.objects.count() == 0


@pytest.mark.parametrize("final", ["busy", "no-answer", "failed", "completed"])
def test_a_call_nobody_answered_leaves_a_call_back_task_for_the_team(
    people: Personas, phone_inbox: Inbox, final: str
) -> None:
    customer = do_create_contact("Dana", phones=[PhoneInput("+14155550132")])
    call = ring(people)
    status(final)
    status(final)  # Twilio retries callbacks too
    task = Task.objects.get()
    assert task.team == people.support
    assert task.contact == customer
    assert task.title == "Call back Dana"
    assert "+14155550132" in task.description
    call.refresh_from_db()
    assert call.callback_task == task
    assert call.ended_at is not None


def test_a_late_ringing_report_does_not_reopen_a_finished_call(
    people: Personas, phone_inbox: Inbox
) -> None:
    ring(people)
    status("completed")
    count = len(updates())
    status("ringing")
    assert Call.objects.get().status == "completed"
    assert len(updates()) == count


def test_a_status_for_an_unknown_call_is_accepted_and_ignored(phone_inbox: Inbox) -> None:
    assert status("completed").status_code == 200
    assert Call.objects.count() == 0


def test_an_unknown_status_is_a_bad_request(people: Personas, phone_inbox: Inbox) -> None:
    ring(people)
    assert status("exploded").status_code == 400
    assert Call.objects.get().status == "ringing"


def test_an_unanswered_dial_falls_through_to_voicemail(
    people: Personas, phone_inbox: Inbox
) -> None:
    ring(people)
    path = "/telephony/twilio/voice/after-dial/"
    missed = twiml(twilio_post(path, call_params(sid=SID, DialCallStatus="no-answer")))
    assert missed.find("Record") is not None
    answered = twiml(twilio_post(path, call_params(sid=SID, DialCallStatus="completed")))
    assert answered.find("Hangup") is not None


def test_a_voicemail_recording_and_its_transcription_attach_to_the_conversation(
    people: Personas, phone_inbox: Inbox
) -> None:
    call = ring(people, online=False)
    recording = {
        **call_params(sid=SID),
        "RecordingSid": "RE" + "1" * 32,
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1",
        "RecordingStatus": "completed",
        "RecordingDuration": "14",
    }
    assert twilio_post(RECORDING, recording).status_code == 200
    voicemail = call.conversation.messages.get(external_id__startswith="voicemail:")
    assert voicemail.metadata["recording_url"] == recording["RecordingUrl"]
    assert "transcription pending" in voicemail.body_text

    transcribed = {
        **recording,
        "TranscriptionSid": "TR" + "1" * 32,
        "TranscriptionStatus": "completed",
        "TranscriptionText": "Hi, please call me back about my order.",
    }
    assert twilio_post(RECORDING, transcribed).status_code == 200
    assert twilio_post(RECORDING, transcribed).status_code == 200  # a retry
    voicemail.refresh_from_db()
    assert voicemail.body_text == "Voicemail: Hi, please call me back about my order."
    assert call.conversation.messages.filter(external_id__startswith="voicemail:").count() == 1
    call.refresh_from_db()
    assert call.transcription == "Hi, please call me back about my order."
    assert call.recording_url == recording["RecordingUrl"]
    assert Event.objects.filter(type="message.updated").exists()
    assert updates()[-1]["transcription"] == call.transcription
    status("completed")
    assert "voicemail left" in Task.objects.get().description


def test_a_transcription_arriving_before_the_recording_report_is_kept(
    people: Personas, phone_inbox: Inbox
) -> None:
    call = ring(people, online=False)
    params = {
        **call_params(sid=SID),
        "RecordingSid": "RE" + "2" * 32,
        "RecordingUrl": "https://api.twilio.com/recordings/RE2",
        "TranscriptionStatus": "completed",
        "TranscriptionText": "Order 4411 arrived broken.",
    }
    twilio_post(RECORDING, params)
    twilio_post(RECORDING, {k: v for k, v in params.items() if not k.startswith("Transcr")})
    (voicemail,) = call.conversation.messages.filter(external_id__startswith="voicemail:")
    assert voicemail.body_text == "Voicemail: Order 4411 arrived broken."


def test_forged_status_and_recording_callbacks_change_nothing(
    people: Personas, phone_inbox: Inbox
) -> None:
    ring(people)
    count = Event.objects.count()
    assert (
        twilio_post(STATUS, call_params(sid=SID, CallStatus="busy"), signature="x").status_code
        == 403
    )
    params = {**call_params(sid=SID), "RecordingSid": "RE3", "RecordingUrl": "https://evil.test/"}
    assert twilio_post(RECORDING, params, signature="").status_code == 403
    call = Call.objects.get()
    assert call.status == "ringing"
    assert call.recording_url == ""
    assert Task.objects.count() == 0
    assert Event.objects.count() == count
