"""The TwiML the hub answers Twilio with, built from the stored call so that a retried
webhook gets the same answer."""

from __future__ import annotations

from django.conf import settings
from twilio.twiml.voice_response import Dial, VoiceResponse

from telephony.models import Call
from telephony.providers.twilio import public_url
from telephony.routing import RingLeg, legs_of

RING_SECONDS = 25
VOICEMAIL_MAX_SECONDS = 180

STATUS_PATH = "/telephony/twilio/voice/status/"
AFTER_DIAL_PATH = "/telephony/twilio/voice/after-dial/"
HOLD_PATH = "/telephony/twilio/voice/hold/"
RECORDING_PATH = "/telephony/twilio/voice/recording/"
GOODBYE_PATH = "/telephony/twilio/voice/goodbye/"


def answer_call(call: Call, legs: list[RingLeg] | None = None) -> VoiceResponse:
    """`legs`: the ring group when the caller has it at hand (the webhook that just
    chose it); otherwise it is read by the call's agent ids."""
    if call.outcome == "ring" and call.rung_user_ids:
        return ring_agents(call, legs)
    if call.outcome == "queue":
        return queue_caller(call)
    return voicemail(call)


def ring_agents(call: Call, legs: list[RingLeg] | None = None) -> VoiceResponse:
    """Ring the call's ring group at once (softphone or forwarding number; at most ten,
    Twilio's limit per Dial); the first to pick up gets the caller. Each leg reports
    its answer with the agent's id."""
    if legs is None or [leg.user_id for leg in legs] != call.rung_user_ids:
        legs = legs_of(call.rung_user_ids)
    response = VoiceResponse()
    dial = Dial(action=public_url(AFTER_DIAL_PATH), timeout=RING_SECONDS)
    for leg in legs:
        progress = {
            "status_callback": public_url(f"{STATUS_PATH}?agent={leg.user_id}"),
            "status_callback_event": "answered",
        }
        if leg.forward_number:
            dial.number(leg.forward_number, **progress)
        else:
            dial.client(leg.identity, **progress)
    response.append(dial)
    return response


def queue_caller(call: Call) -> VoiceResponse:
    response = VoiceResponse()
    queue = f"team-{call.team_id}" if call.team_id else "hub"
    response.enqueue(queue, wait_url=public_url(HOLD_PATH), action=public_url(AFTER_DIAL_PATH))
    return response


def voicemail(call: Call | None = None) -> VoiceResponse:
    response = VoiceResponse()
    response.say("Nobody can take your call right now. Please leave a message after the tone.")
    response.record(
        max_length=VOICEMAIL_MAX_SECONDS,
        play_beep=True,
        transcribe=True,
        transcribe_callback=public_url(RECORDING_PATH),
        recording_status_callback=public_url(RECORDING_PATH),
        action=public_url(GOODBYE_PATH),
    )
    return response


def hold_music(*, greet: bool, position: int) -> VoiceResponse:
    """The caller's place in line and one play of the hold music (`greet`: the greeting
    first, on the caller's first wait): when it ends Twilio asks the hold URL again,
    which is when the hub looks for a free agent (telephony.actions.queue)."""
    response = VoiceResponse()
    if greet:
        response.say("All our agents are busy. Please hold, we will be with you shortly.")
    response.say(f"You are number {position} in line.")
    response.play(settings.TELEPHONY_HOLD_MUSIC_URL)
    return response


def leave_queue() -> VoiceResponse:
    """The caller leaves the queue; Twilio then asks the queue's action URL."""
    response = VoiceResponse()
    response.leave()
    return response


def goodbye() -> VoiceResponse:
    response = VoiceResponse()
    response.say("Thank you. Goodbye.")
    response.hangup()
    return response


def empty() -> VoiceResponse:
    return VoiceResponse()


def bridge_to_customer(call: Call) -> VoiceResponse:
    """Click-to-call, second half: the agent picked up; now dial the customer with our
    number as caller ID."""
    response = VoiceResponse()
    dial = Dial(caller_id=call.from_number, timeout=RING_SECONDS)
    dial.number(call.customer_e164)
    response.append(dial)
    return response
