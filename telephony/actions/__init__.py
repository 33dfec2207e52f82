"""Domain actions of telephony (check_*/do_*): webhooks, the CTI endpoint, the API and
the outbox worker are thin adapters around these."""

from telephony.actions.calls import (
    IncomingCall,
    caller_label,
    do_attach_voicemail,
    do_create_contact_for_call,
    do_pick_contact_for_call,
    do_receive_call,
    do_update_call,
    find_inbox,
    resolve_agent,
)
from telephony.actions.click_to_call import check_click_to_call, do_click_to_call
from telephony.actions.queue import do_ring_from_queue, leaves_queue
from telephony.actions.sms import (
    deliver_due_sms,
    deliver_sms,
    deliver_sms_quietly,
    do_receive_sms,
    do_update_sms_status,
    queue_sms,
    sms_thread_key,
)

__all__ = [
    "IncomingCall",
    "caller_label",
    "check_click_to_call",
    "deliver_due_sms",
    "deliver_sms",
    "deliver_sms_quietly",
    "do_attach_voicemail",
    "do_click_to_call",
    "do_create_contact_for_call",
    "do_pick_contact_for_call",
    "do_receive_call",
    "do_receive_sms",
    "do_ring_from_queue",
    "do_update_call",
    "do_update_sms_status",
    "find_inbox",
    "leaves_queue",
    "queue_sms",
    "resolve_agent",
    "sms_thread_key",
]
