"""A signed Twilio voice webhook pops the caller's profile on the agent's screen."""

from __future__ import annotations

import urllib.parse
import urllib.request

from twilio.request_validator import RequestValidator

from hub import actions as crm
from hub.models import Account, Contact
from inbox.models import Channel
from tests.e2e.test_console import sign_in
from tests.factories import make_personas
from tests.inbox_fixtures import make_inbox

TOKEN = "e2e-twilio-token-0123456789"
PUBLIC = "https://hub.example.test"
OUR_NUMBER = "+15005550006"


def ring(server: str, caller: str, sid: str) -> int:
    params = {
        "AccountSid": "AC" + "0" * 32,
        "CallSid": sid,
        "From": caller,
        "To": OUR_NUMBER,
        "Direction": "inbound",
        "CallStatus": "ringing",
    }
    path = "/telephony/twilio/voice/"
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, params)
    request = urllib.request.Request(
        server + path,
        data=urllib.parse.urlencode(params).encode(),
        headers={"X-Twilio-Signature": signature},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status


def test_a_known_caller_pops_their_profile_and_an_unknown_one_can_be_saved(
    twilio_server: str, page: object
) -> None:
    people = make_personas()
    make_inbox(people.support, key="phone", channel=Channel.PHONE, address=OUR_NUMBER)
    account = Account.objects.create(name="Fjordkraft Logistikk", country="NO")
    crm.do_create_contact("Åse Bråthen", account=account, phones=[crm.PhoneInput("22 33 44 55")])

    sign_in(page, twilio_server, people.agent.email)
    page.wait_for_selector("#connection[data-state=live]")  # type: ignore[attr-defined]
    assert ring(twilio_server, "+47 22 33 44 55", "CA" + "1" * 32) == 200
    pop = page.wait_for_selector("#screen-pop:not([hidden])")  # type: ignore[attr-defined]
    assert "Åse Bråthen — Fjordkraft Logistikk" in pop.inner_text()

    page.click("#screen-pop-close")  # type: ignore[attr-defined]
    assert ring(twilio_server, "+14155550199", "CA" + "2" * 32) == 200
    page.wait_for_selector("#screen-pop:not([hidden]) >> text=Unknown caller")  # type: ignore[attr-defined]
    page.fill(".pop-create input[name=name]", "New Caller")  # type: ignore[attr-defined]
    page.click(".pop-create button")  # type: ignore[attr-defined]
    page.wait_for_selector("#screen-pop .pop-name >> text=New Caller")  # type: ignore[attr-defined]
    saved = Contact.objects.get(name="New Caller")
    assert saved.phones.get().e164 == "+14155550199"
