"""The demo answers the phone: `seed_demo` leaves a phone and an SMS inbox on the demo
number and a CTI integration, and a call to the number rings the online Support agents."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from hub.models import User
from inbox.models import AgentPresence, Event
from telephony.models import CtiIntegration
from tests.telephony.conftest import call_params, twilio_post, twiml

pytestmark = pytest.mark.django_db


def test_the_demo_number_rings_the_online_support_agents() -> None:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=io.StringIO())  # idempotent
    assert CtiIntegration.objects.count() == 1
    assert "/telephony/cti/" in out.getvalue()
    agent = User.objects.get(email="agent@demo.test")
    AgentPresence.objects.update_or_create(user=agent, defaults={"effective": "online"})
    root = twiml(twilio_post("/telephony/twilio/voice/", call_params(sid="CA" + "9" * 32)))
    assert [c.text for c in root.iter("Client")] == [f"agent-{agent.pk}"]
    pop = Event.objects.get(type="call.incoming")
    assert f"user.{agent.pk}" in pop.audience_keys
    assert (
        twilio_post(
            "/telephony/twilio/sms/",
            {"MessageSid": "SM1", "From": "+14155550132", "To": "+15005550006", "Body": "hi"},
        ).status_code
        == 200
    )
