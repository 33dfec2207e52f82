"""Sales intent in several languages (whole words, not substrings), and the same
routing outcome whichever channel a message arrives on (issue 7 items 5 and 6)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from inbox import routing
from inbox.chat import receive_chat_message, start_visitor
from inbox.models import Channel, Conversation
from inbox.routing import analyze
from mail.actions import FetchedMail, ingest_mail
from mail.models import FolderCheckpoint, Mailbox
from telephony.actions.sms import do_receive_sms
from tests.factories import Personas
from tests.inbox.routing_fixtures import gold_customer, rule
from tests.inbox_fixtures import inbound, make_inbox

pytestmark = pytest.mark.django_db

SALES_ENQUIRIES = [
    "What is your pricing for 50 seats?",
    "Please send us a quote.",
    "Kan dere sende et tilbud på 20 lisenser?",
    "Hva er prisen?",
    "Wir bitten um ein Angebot.",
    "Was kostet das? Bitte Preise schicken.",
    "Pouvez-vous nous envoyer un devis ?",
    "Quel est le PRIX ?",
    "¿Nos pueden enviar un presupuesto?",
    "¿Cuál es el precio?",
    "Necesito una cotización",
]
NOT_SALES = [
    "Your advice was priceless, thanks!",
    "The offering at the conference was nice",  # "offering" is not "offer"
    "My parcel with the prismatic lens is late",  # "pris" only as a word
    "Der Preisträger hat angerufen",  # a compound, not the word
    "Support ticket about login",
]


@pytest.mark.parametrize("text", SALES_ENQUIRIES)
def test_sales_intent_in_several_languages_goes_to_sales(people: Personas, text: str) -> None:
    conversation = inbound(make_inbox(people.support), text).conversation

    assert conversation.team == people.sales
    assert conversation.routing_trace[0].startswith("sales intent (")
    assert conversation.routing_trace[0].endswith("): team Sales")


@pytest.mark.parametrize("text", NOT_SALES)
def test_words_that_merely_contain_a_sales_word_stay_with_the_inbox_team(
    people: Personas, text: str
) -> None:
    conversation = inbound(make_inbox(people.support), text).conversation

    assert conversation.team == people.support


def test_the_subject_counts_too(people: Personas) -> None:
    inbox = make_inbox(people.support)

    conversation = inbound(inbox, "See subject", subject="Quote request").conversation

    assert conversation.routing_trace[0] == "sales intent (quote): team Sales"


def test_the_word_list_is_configurable(people: Personas, settings: object) -> None:
    settings.ROUTING_SALES_INTENT_WORDS = ["Widget", "Bestellung"]  # type: ignore[attr-defined]
    inbox = make_inbox(people.support)

    assert inbound(inbox, "I want a widget", thread_key="a").conversation.team == people.sales
    assert inbound(inbox, "I want a quote", thread_key="b").conversation.team == people.support


def test_a_rule_with_a_team_wins_over_sales_intent(people: Personas) -> None:
    rule(people.supervisor, "Billing words", {"words": ["invoice"]}, {"team": "billing"})

    conversation = inbound(make_inbox(people.support), "Invoice and a quote").conversation

    assert conversation.team == people.billing


def test_analysis_folds_case_and_accents() -> None:
    assert analyze("Cotización, PRÉCIO; kjøpe-Angebot") == [
        "cotizacion",
        "precio",
        "kjøpe",
        "angebot",
    ]


# ------------------------------------------------------------ same for every channel


def _by_email(people: Personas, text: str) -> Conversation:
    inbox = make_inbox(people.support, key="mail", channel=Channel.EMAIL, address="help@hub.test")
    mailbox = Mailbox.objects.create(
        inbox=inbox, imap_host="127.0.0.1", imap_user="help", from_address="help@hub.test"
    )
    FolderCheckpoint.objects.create(mailbox=mailbox, folder="INBOX", uidvalidity=1)
    mail = EmailMessage()
    mail["From"] = "Olga Nordmann <olga@nordlys.test>"
    mail["To"] = "help@hub.test"
    mail["Subject"] = "Order"
    mail["Message-ID"] = "<order-1@nordlys.test>"
    mail.set_content(text)
    raw = mail.as_bytes()
    result = ingest_mail(mailbox, "INBOX", 1, FetchedMail(uid=1, raw=raw, size=len(raw)))
    assert result.outcome == "stored", result
    return Conversation.objects.get(inbox=inbox)


def _by_sms(people: Personas, text: str) -> Conversation:
    inbox = make_inbox(people.support, key="sms", channel=Channel.SMS, address="+4720000000")
    return do_receive_sms(
        inbox, sid="SM" + "1" * 32, from_number="+4791234567", body=text
    ).conversation


def _by_chat(people: Personas, text: str) -> Conversation:
    inbox = make_inbox(people.support, key="chat", channel=Channel.CHAT)
    visitor = start_visitor(inbox)
    return receive_chat_message(visitor, text, name="Olga", email="olga@nordlys.test").conversation


@pytest.mark.parametrize("arrive", [_by_email, _by_sms, _by_chat], ids=["email", "sms", "chat"])
@pytest.mark.parametrize(
    ("text", "team", "priority"),
    [("My order is late", "billing", "urgent"), ("Send me a quote", "sales", "normal")],
)
def test_the_same_rules_give_the_same_outcome_on_every_channel(
    people: Personas, arrive: object, text: str, team: str, priority: str
) -> None:
    contact = gold_customer()
    rule(
        people.supervisor,
        "Gold support",
        {"tier": ["gold"], "sales_intent": False},
        {"team": "billing", "priority": "urgent", "add_tags": ["gold"]},
    )

    conversation = arrive(people, text)  # type: ignore[operator]

    assert conversation.contact == contact
    assert (conversation.team.slug, conversation.priority) == (team, priority)
    expected_first = (
        "rule 'Gold support' matched: no sales intent; account tier = gold"
        if team == "billing"
        else "sales intent (quote): team Sales"
    )
    assert conversation.routing_trace[0] == expected_first


def test_the_word_list_is_analysed_once_per_list(
    settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every routed message asks for the sales-intent words: they are analysed once
    per configured list, and a changed list is seen at once."""
    routing._analyzed_words.cache_clear()
    analysed: list[str] = []
    real_analyze = routing.analyze
    monkeypatch.setattr(
        routing, "analyze", lambda text: analysed.append(text) or real_analyze(text)
    )
    settings.ROUTING_SALES_INTENT_WORDS = ["Widget", "Cotización"]  # type: ignore[attr-defined]
    assert routing.sales_intent_words() == {"widget", "cotizacion"}
    assert routing.sales_intent_words() == {"widget", "cotizacion"}
    assert analysed == ["Widget", "Cotización"]
    settings.ROUTING_SALES_INTENT_WORDS = ["Bestellung"]  # type: ignore[attr-defined]
    assert routing.sales_intent_words() == {"bestellung"}
