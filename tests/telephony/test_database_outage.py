"""PostgreSQL unreachable while Twilio delivers: a real Daphne process whose database
connection runs through a proxy we cut. Twilio must get a 5xx, so that it retries,
and the retry must go through once the database is back (DESIGN §8 fault tests).
Each of a webhook's transactions is atomic: a failed one leaves nothing of itself
(an incoming call's second transaction failing after its pop committed is
tests/telephony/test_twilio_voice.py's "a failure after the pop ...")."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from inbox.models import Conversation, Event, Inbox, Message
from telephony.models import Call
from tests.proxy import TcpProxy
from tests.servers import daphne_servers
from tests.telephony.conftest import ACCOUNT_SID, AUTH_TOKEN, BASE_URL, call_params, sign
from tests.telephony.test_sms import SMS, sms_params

VOICE = "/telephony/twilio/voice/"

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def database_proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(int(settings.DATABASES["default"]["PORT"] or 5432))
    proxy.come_back()
    yield proxy
    proxy.go_down()


def deliver(port: int, params: dict[str, str], path: str = SMS) -> int:
    """What Twilio does: a signed form POST; returns the HTTP status it sees."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=urllib.parse.urlencode(params).encode(),
        headers={"X-Twilio-Signature": sign(path, params)},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def server_settings(database_proxy: TcpProxy) -> dict[str, str]:
    db = settings.DATABASES["default"]
    return {
        "DATABASE_URL": f"postgres://{db['USER']}@127.0.0.1:{database_proxy.port}/{db['NAME']}",
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "PUBLIC_BASE_URL": BASE_URL,
        "DEFAULT_PHONE_REGION": "US",
    }


def test_a_webhook_while_the_database_is_down_gets_a_5xx_and_its_retry_is_stored_once(
    sms_inbox: Inbox, database_proxy: TcpProxy, tmp_path: Path
) -> None:
    with daphne_servers(1, tmp_path, **server_settings(database_proxy)) as [port]:
        first = sms_params("SM" + "1" * 32, "Is my order on its way?")
        assert deliver(port, first) == 200

        database_proxy.go_down()
        second = sms_params("SM" + "2" * 32, "Hello? Anyone there?")
        assert deliver(port, second) >= 500
        assert list(Message.objects.values_list("body_text", flat=True)) == [
            "Is my order on its way?"
        ]

        database_proxy.come_back()
        # Twilio retries the same delivery; an earlier one must not be stored again.
        assert deliver(port, second) == 200
        assert deliver(port, first) == 200

    assert sorted(Message.objects.values_list("body_text", flat=True)) == [
        "Hello? Anyone there?",
        "Is my order on its way?",
    ]
    assert Conversation.objects.count() == 1


def test_a_call_while_the_database_is_down_gets_a_5xx_and_its_retry_pops_once(
    phone_inbox: Inbox, database_proxy: TcpProxy, tmp_path: Path
) -> None:
    with daphne_servers(1, tmp_path, **server_settings(database_proxy)) as [port]:
        first = call_params("CA" + "1" * 32)
        assert deliver(port, first, VOICE) == 200

        database_proxy.go_down()
        second = call_params("CA" + "2" * 32, caller="+14155550199")
        assert deliver(port, second, VOICE) >= 500
        assert list(Call.objects.values_list("sid", flat=True)) == [first["CallSid"]]

        database_proxy.come_back()
        assert deliver(port, second, VOICE) == 200
        assert deliver(port, first, VOICE) == 200

    calls = Call.objects.order_by("id")
    assert [call.sid for call in calls] == [first["CallSid"], second["CallSid"]]
    assert all(call.conversation_id is not None for call in calls)
    assert Conversation.objects.count() == 2
    assert Message.objects.count() == 2
    assert Event.objects.filter(type="call.incoming").count() == 2
