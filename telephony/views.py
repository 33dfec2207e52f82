"""Webhooks (Twilio, generic CTI): thin adapters that check the caller, normalize the
input and call one action. Each action's transactions are atomic and idempotent on
the provider's id: if the database is down the view raises, Twilio gets a 500 and
retries, and the retry finishes what was not committed (an incoming call commits its
screen pop first and its conversation second; a retry writes the conversation once
and never pops again)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.twiml.messaging_response import MessagingResponse

from hub import config_cache
from inbox.models import Channel
from telephony import actions, twiml
from telephony.models import Call, CallStatus, CtiIntegration
from telephony.providers import cti
from telephony.providers import twilio as twilio_provider
from telephony.screen_pop import call_data, screen_pop_for

View = Callable[[HttpRequest], HttpResponse]


def twilio_webhook(view: View) -> View:
    """Only requests Twilio signed, for exactly this URL, reach the view."""

    @csrf_exempt
    @require_POST
    @wraps(view)
    def checked(request: HttpRequest) -> HttpResponse:
        url = twilio_provider.public_url(request.get_full_path())
        signature = request.META.get(twilio_provider.SIGNATURE_HEADER, "")
        params = {key: request.POST.get(key, "") for key in request.POST}
        if not twilio_provider.signature_is_valid(url, params, signature):
            return HttpResponseForbidden("Invalid Twilio signature.")
        return view(request)

    return checked


def xml(response: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml", status=status)


def bad_request(message: str) -> HttpResponse:
    return HttpResponse(message, content_type="text/plain", status=400)


def _find_call(sid: str) -> Call | None:
    return Call.objects.filter(source="twilio", sid=sid).first() if sid else None


# ------------------------------------------------------------------ voice


@twilio_webhook
@config_cache.snapshot()
def voice(request: HttpRequest) -> HttpResponse:
    sid = request.POST.get("CallSid", "")
    if not sid:
        return bad_request("CallSid is missing.")
    to_number = request.POST.get("To", "")
    inbox = actions.find_inbox(to_number, Channel.PHONE)
    if inbox is None:
        response = twiml.empty()
        response.say("This number is not in service.")
        response.hangup()
        return xml(response)
    incoming = actions.do_receive_call(
        inbox,
        source="twilio",
        sid=sid,
        from_number=request.POST.get("From", ""),
        to_number=to_number,
    )
    return xml(twiml.answer_call(incoming.call, incoming.rung))


@twilio_webhook
def voice_status(request: HttpRequest) -> HttpResponse:
    status = request.POST.get("CallStatus", "")
    if status not in CallStatus.values:
        return bad_request(f"Unknown CallStatus {status!r}.")
    agent_id = request.GET.get("agent", "")
    parent_sid = request.POST.get("ParentCallSid", "")
    if agent_id and parent_sid:
        # An agent's leg of the Dial: it answering means that agent took the call.
        call = _find_call(parent_sid)
        agent = actions.resolve_agent(f"agent-{agent_id}") if agent_id.isdigit() else None
        if call is not None and agent is not None and status == CallStatus.IN_PROGRESS:
            actions.do_update_call(call, CallStatus.IN_PROGRESS, agent=agent)
        return xml(twiml.empty())
    call = _find_call(request.POST.get("CallSid", ""))
    if call is not None:
        duration = request.POST.get("CallDuration", "")
        actions.do_update_call(call, status, duration=int(duration) if duration.isdigit() else None)
    return xml(twiml.empty())


@twilio_webhook
@config_cache.snapshot()
def voice_after_dial(request: HttpRequest) -> HttpResponse:
    """The action of a ring group's Dial, and of the hold queue's Enqueue."""
    dial_status = request.POST.get("DialCallStatus", "")
    queue_result = request.POST.get("QueueResult", "")
    call = _find_call(request.POST.get("CallSid", ""))
    if queue_result == "leave" and call is not None:
        # The hold URL let the caller go: ring the free agents (or voicemail).
        call, legs = actions.do_ring_from_queue(call)
        return xml(twiml.answer_call(call, legs))
    if queue_result == "hangup" and call is not None:
        # The caller hung up on hold: a missed call (its call-back task).
        actions.do_update_call(call, CallStatus.COMPLETED)
    if dial_status in ("completed", "answered") or queue_result in (
        "bridged",
        "bridging-in-process",
        "hangup",
    ):
        response = twiml.empty()
        response.hangup()
        return xml(response)
    return xml(twiml.voicemail(call))


@twilio_webhook
@config_cache.snapshot()
def voice_hold(request: HttpRequest) -> HttpResponse:
    """The hold queue's wait URL, asked each time the hold music ends."""
    position = request.POST.get("QueuePosition", "")
    if not position.isdigit():
        return bad_request("QueuePosition must be the caller's place in the queue.")
    call = _find_call(request.POST.get("CallSid", ""))
    if actions.leaves_queue(call, int(position)):
        return xml(twiml.leave_queue())
    first_wait = request.POST.get("QueueTime", "0") in ("", "0")
    return xml(twiml.hold_music(greet=first_wait, position=int(position)))


@twilio_webhook
def voice_bridge(request: HttpRequest) -> HttpResponse:
    call_id = request.GET.get("call", "")
    call = (
        Call.objects.filter(pk=int(call_id), direction="outbound").first()
        if call_id.isdigit()
        else None
    )
    if call is None or not call.customer_e164:
        response = twiml.empty()
        response.hangup()
        return xml(response)
    return xml(twiml.bridge_to_customer(call))


@twilio_webhook
def voice_goodbye(request: HttpRequest) -> HttpResponse:
    return xml(twiml.goodbye())


@twilio_webhook
def voice_recording(request: HttpRequest) -> HttpResponse:
    """Recording status callback and transcription callback of a voicemail."""
    call = _find_call(request.POST.get("CallSid", ""))
    recording_sid = request.POST.get("RecordingSid", "")
    if call is None or not recording_sid:
        return xml(twiml.empty())
    transcription_status = request.POST.get("TranscriptionStatus", "")
    transcription = None
    if transcription_status == "completed":
        transcription = request.POST.get("TranscriptionText", "")
    elif transcription_status:
        transcription = "(transcription failed)"
    actions.do_attach_voicemail(
        call,
        recording_sid=recording_sid,
        recording_url=request.POST.get("RecordingUrl", ""),
        transcription=transcription,
    )
    return xml(twiml.empty())


# ------------------------------------------------------------------ SMS


@twilio_webhook
@config_cache.snapshot()
def sms(request: HttpRequest) -> HttpResponse:
    inbox = actions.find_inbox(request.POST.get("To", ""), Channel.SMS)
    if inbox is None:
        return HttpResponse("No SMS inbox answers on this number.", status=404)
    count = request.POST.get("NumMedia", "0")
    media = [
        request.POST.get(f"MediaUrl{index}", "")
        for index in range(int(count) if count.isdigit() else 0)
    ]
    try:
        actions.do_receive_sms(
            inbox,
            sid=request.POST.get("MessageSid", ""),
            from_number=request.POST.get("From", ""),
            body=request.POST.get("Body", ""),
            media_urls=[url for url in media if url],
        )
    except ValidationError as error:
        return bad_request("; ".join(error.messages))
    return xml(MessagingResponse())


@twilio_webhook
@config_cache.snapshot()
def sms_status(request: HttpRequest) -> HttpResponse:
    # On an outbound message our number is the sender.
    inbox = actions.find_inbox(request.POST.get("From", ""), Channel.SMS)
    if inbox is not None:
        actions.do_update_sms_status(
            inbox,
            sid=request.POST.get("MessageSid", ""),
            status=request.POST.get("MessageStatus", ""),
            error_code=request.POST.get("ErrorCode", ""),
        )
    return xml(MessagingResponse())


# ------------------------------------------------------------------ generic CTI


@csrf_exempt
@require_POST
def cti_event(request: HttpRequest, token: str) -> HttpResponse:
    integration = (
        CtiIntegration.objects.select_related("inbox").filter(token=token, is_active=True).first()
    )
    if integration is None:
        return JsonResponse({"error": "Unknown CTI token."}, status=404)
    try:
        event = cti.parse_event(request.body)
    except cti.CtiEventError as error:
        return JsonResponse({"error": str(error)}, status=400)
    source = f"cti:{integration.pk}"
    try:
        if event.kind == "newCall":
            inbox = actions.find_inbox(event.our_number, Channel.PHONE) or integration.inbox
            incoming = actions.do_receive_call(
                inbox,
                source=source,
                sid=event.call_id,
                from_number=event.from_number,
                to_number=event.to_number,
                direction=event.direction,
                customer_number=event.customer_number,
            )
            pop = screen_pop_for(incoming.call)
            return JsonResponse(
                {**pop, "created": incoming.created}, status=201 if incoming.created else 200
            )
        call = Call.objects.filter(source=source, sid=event.call_id).first()
        if call is None:
            return JsonResponse({"error": f"No call {event.call_id!r}."}, status=404)
        if event.kind == "answer":
            agent = actions.resolve_agent(event.user)
            if agent is None:
                return JsonResponse({"error": f"No agent {event.user!r}."}, status=400)
            call = actions.do_update_call(call, CallStatus.IN_PROGRESS, agent=agent)
        else:
            call = actions.do_update_call(call, CallStatus.COMPLETED, duration=event.duration)
    except ValidationError as error:
        return JsonResponse({"error": "; ".join(error.messages)}, status=400)
    return JsonResponse({"call": call_data(call)})
