"""The website lead form (issue 11 item 4): spam checks, CORS per inbox, dedupe,
routing like any inbound message, idempotency, 4xx with nothing written."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from hub.actions import EmailInput, PhoneInput, do_create_contact
from hub.models import Contact
from inbox.leads import issue_form_token
from inbox.models import Channel, Conversation, Event, Inbox, Message
from tests.factories import Personas
from tests.inbox_fixtures import make_inbox

SITE = "https://www.example.com"


@pytest.fixture
def form(people: Personas, settings: Any) -> Inbox:
    settings.LEAD_MIN_FILL_SECONDS = 3
    settings.LEAD_RATE_LIMIT = 5
    cache.clear()
    return make_inbox(people.sales, key="website", channel=Channel.FORM, allowed_origins=SITE)


def old_token(inbox: Inbox, seconds: int = 30) -> str:
    return issue_form_token(inbox, now=time.time() - seconds)


def post(inbox: Inbox, client: Client | None = None, **fields: Any) -> Any:
    data = {
        "name": "Nora Buyer",
        "email": "Nora@Example.com",
        "phone": "+47 412 34 567",
        "message": "We want a quote for 40 seats",
        "form_token": old_token(inbox),
        "website": "",
        **fields,
    }
    headers = {"HTTP_ORIGIN": SITE}
    return (client or Client()).post(f"/leads/{inbox.key}/", data, **headers)


def snapshot() -> tuple[int, int, int, int]:
    return (
        Contact.objects.count(),
        Conversation.objects.count(),
        Message.objects.count(),
        Event.objects.count(),
    )


def test_a_lead_creates_the_contact_and_enters_routing(form: Inbox) -> None:
    response = post(form)
    assert response.status_code == 201, response.content
    assert response["Access-Control-Allow-Origin"] == SITE
    contact = Contact.objects.get()
    assert contact.name == "Nora Buyer"
    assert list(contact.emails.values_list("address", flat=True)) == ["nora@example.com"]
    assert list(contact.phones.values_list("e164", flat=True)) == ["+4741234567"]
    conversation = Conversation.objects.get()
    assert conversation.channel == Channel.FORM
    assert conversation.contact == contact
    assert conversation.team is not None  # routed (the inbox's default team at least)
    message = conversation.messages.get()
    assert message.body_text == "We want a quote for 40 seats"
    assert "routing" in message.metadata
    types = list(Event.objects.values_list("type", flat=True))
    assert types == ["conversation.created", "message.created"]


def test_a_lead_updates_the_contact_found_by_email_or_phone(form: Inbox) -> None:
    by_phone = do_create_contact("N. Buyer", phones=[PhoneInput("+4741234567")])
    assert post(form).status_code == 201
    assert Contact.objects.count() == 1
    assert by_phone.emails.get().address == "nora@example.com"
    by_email = do_create_contact("Ole", emails=[EmailInput("ole@example.com")])
    response = post(form, email="OLE@example.com", phone="", message="Call me")
    assert response.status_code == 201
    assert Contact.objects.count() == 2
    assert Conversation.objects.order_by("-id").first().contact == by_email


def test_the_same_submission_twice_is_one_message(form: Inbox) -> None:
    token = old_token(form)
    assert post(form, form_token=token).status_code == 201
    assert post(form, form_token=token).status_code == 200
    assert post(form, submission_id="abc").status_code == 201
    assert post(form, submission_id="abc", message="changed").status_code == 200
    assert Message.objects.count() == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"email": "not-mail"}, "email"),
        ({"phone": "call me maybe"}, "phone"),
        ({"email": "", "phone": ""}, "email"),
        ({"message": "  "}, "message"),
        ({"form_token": "forged"}, "form_token"),
        ({"form_token": ""}, "form_token"),
    ],
)
def test_bad_input_gets_400_naming_the_field_and_writes_nothing(
    form: Inbox, fields: dict[str, str], field: str
) -> None:
    before = snapshot()
    response = post(form, **fields)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert snapshot() == before


def test_a_form_sent_faster_than_a_person_can_type_is_refused(form: Inbox) -> None:
    response = post(form, form_token=issue_form_token(form))
    assert response.status_code == 400
    assert "too quickly" in response.json()["errors"]["form_token"]
    assert snapshot() == (0, 0, 0, 0)


def test_an_expired_token_or_one_of_another_form_is_refused(
    form: Inbox, people: Personas, settings: Any
) -> None:
    other = make_inbox(people.sales, key="other-site", channel=Channel.FORM)
    assert post(form, form_token=old_token(other)).status_code == 400
    settings.LEAD_TOKEN_MAX_AGE_SECONDS = 60
    assert post(form, form_token=old_token(form, seconds=120)).status_code == 400
    assert snapshot() == (0, 0, 0, 0)


def test_a_filled_honeypot_looks_accepted_but_writes_nothing(form: Inbox) -> None:
    response = post(form, website="http://spam.example")
    assert response.status_code == 202
    assert snapshot() == (0, 0, 0, 0)


def test_one_ip_is_rate_limited(form: Inbox) -> None:
    for n in range(5):
        assert post(form, submission_id=f"s{n}").status_code == 201
    response = post(form, submission_id="s6")
    assert response.status_code == 429
    assert Message.objects.count() == 5


def test_origins_not_on_the_inbox_list_are_refused(form: Inbox) -> None:
    client = Client()
    data = {"name": "X", "email": "x@example.com", "message": "hi", "form_token": old_token(form)}
    response = client.post(f"/leads/{form.key}/", data, HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response
    preflight = client.options(f"/leads/{form.key}/", HTTP_ORIGIN=SITE)
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == SITE
    assert snapshot() == (0, 0, 0, 0)


def test_both_endpoints_refuse_the_wrong_method_and_foreign_origins(form: Inbox) -> None:
    client = Client()
    token_url, lead_url = f"/leads/{form.key}/token/", f"/leads/{form.key}/"
    assert client.post(token_url, HTTP_ORIGIN=SITE).status_code == 405
    assert client.get(lead_url, HTTP_ORIGIN=SITE).status_code == 405
    assert client.get(token_url, HTTP_ORIGIN="https://evil.example").status_code == 403
    assert client.options(token_url, HTTP_ORIGIN=SITE)["Access-Control-Allow-Origin"] == SITE
    assert client.get("/leads/no-such-form/token/", HTTP_ORIGIN=SITE).status_code == 404
    assert snapshot() == (0, 0, 0, 0)


def test_the_token_endpoint_and_json_posts(form: Inbox, settings: Any) -> None:
    response = Client().get(f"/leads/{form.key}/token/", HTTP_ORIGIN=SITE)
    assert response.status_code == 200
    token = response.json()["form_token"]
    settings.LEAD_MIN_FILL_SECONDS = 0
    response = Client().post(
        f"/leads/{form.key}/",
        {"name": "J", "email": "j@example.com", "message": "JSON works", "form_token": token},
        content_type="application/json",
    )
    assert response.status_code == 201
    bad = Client().post(f"/leads/{form.key}/", "{nope", content_type="application/json")
    assert bad.status_code == 400
    listed = Client().post(f"/leads/{form.key}/", "[1]", content_type="application/json")
    assert listed.status_code == 400


def test_only_active_form_inboxes_take_leads(form: Inbox, people: Personas) -> None:
    chat = make_inbox(people.support, key="chat", channel=Channel.CHAT)
    assert post(chat).status_code == 404
    Inbox.objects.filter(pk=form.pk).update(is_active=False)
    assert post(form).status_code == 404
    assert snapshot() == (0, 0, 0, 0)
