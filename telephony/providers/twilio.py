"""Twilio: webhook signatures, TwiML, and the Messaging REST API.

The REST client's base URL is `TWILIO_API_BASE_URL` when set (tests run a local
fake of the API): twilio-python builds every URL from its domain object's
`base_url` at request time, so replacing `client.api.base_url` redirects the
Messaging calls and nothing else about the client changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from telephony.providers import ProviderError

SIGNATURE_HEADER = "HTTP_X_TWILIO_SIGNATURE"
REQUEST_TIMEOUT_SECONDS = 10


def signature_is_valid(url: str, params: Mapping[str, str], signature: str) -> bool:
    """True when Twilio signed these form params for this URL with our auth token.
    Without a configured token nothing is valid: an open webhook would let anyone
    fake calls."""
    token = settings.TWILIO_AUTH_TOKEN
    if not token or not signature:
        return False
    return bool(RequestValidator(token).validate(url, dict(params), signature))


def public_url(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def rest_client() -> Client:
    client = Client(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        http_client=TwilioHttpClient(timeout=REQUEST_TIMEOUT_SECONDS),
    )
    if settings.TWILIO_API_BASE_URL:
        client.api.base_url = settings.TWILIO_API_BASE_URL.rstrip("/")
    return client


@dataclass(frozen=True)
class SentSms:
    sid: str
    status: str


def send_sms(*, from_number: str, to_number: str, body: str, status_callback: str) -> SentSms:
    """Hand one SMS to Twilio Messaging. Raises ProviderError."""
    if not settings.TWILIO_ACCOUNT_SID or not settings.TWILIO_AUTH_TOKEN:
        raise ProviderError("Twilio is not configured (TWILIO_ACCOUNT_SID)", permanent=False)
    try:
        message = rest_client().messages.create(
            from_=from_number, to=to_number, body=body, status_callback=status_callback
        )
    except TwilioRestException as exc:
        # 4xx is Twilio refusing this message (bad number, blocked): retrying the same
        # request gives the same answer. 429 and 5xx pass.
        permanent = 400 <= exc.status < 500 and exc.status != 429
        raise ProviderError(f"Twilio {exc.status}: {exc.msg}", permanent=permanent) from exc
    except (TwilioException, OSError) as exc:
        raise ProviderError(f"Twilio unreachable: {exc}", permanent=False) from exc
    return SentSms(sid=message.sid or "", status=message.status or "queued")


def start_call(*, from_number: str, to: str, url: str, status_callback: str) -> str:
    """Have Twilio place a call to `to` (a number or `client:<identity>`); when it is
    answered Twilio fetches `url` for what to do next. Returns the CallSid."""
    if not settings.TWILIO_ACCOUNT_SID or not settings.TWILIO_AUTH_TOKEN:
        raise ProviderError("Twilio is not configured (TWILIO_ACCOUNT_SID)", permanent=True)
    try:
        call = rest_client().calls.create(
            to=to,
            from_=from_number,
            url=url,
            status_callback=status_callback,
            status_callback_event=["ringing", "answered", "completed"],
        )
    except TwilioRestException as exc:
        permanent = 400 <= exc.status < 500 and exc.status != 429
        raise ProviderError(f"Twilio {exc.status}: {exc.msg}", permanent=permanent) from exc
    except (TwilioException, OSError) as exc:
        raise ProviderError(f"Twilio unreachable: {exc}", permanent=False) from exc
    return call.sid or ""
