"""The agent console and the partner portal in Chromium against a live Daphne."""

from __future__ import annotations

from inbox import actions
from inbox.models import Message, RoutingRule
from tests.factories import PASSWORD, make_personas
from tests.inbox_fixtures import inbound, make_inbox


def sign_in(page: object, server: str, email: str) -> None:
    page.goto(f"{server}/accounts/login/")  # type: ignore[attr-defined]
    page.fill("#id_username", email)  # type: ignore[attr-defined]
    page.fill("#id_password", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]


def test_an_agent_sees_a_message_arrive_live_and_replies_from_the_console(
    hub_server: str, page: object
) -> None:
    people = make_personas()
    inbox = make_inbox(people.support, key="shop")
    first = inbound(
        inbox, "My order #4411 is late", sender_name="Ola Nordmann", subject="Late order"
    )
    sign_in(page, hub_server, people.agent.email)
    page.wait_for_selector("#connection[data-state=live]")  # type: ignore[attr-defined]
    page.click(f".conversation-item[data-id='{first.conversation.pk}']")  # type: ignore[attr-defined]
    page.wait_for_selector(".entry.inbound")  # type: ignore[attr-defined]

    # A new conversation arrives while the agent watches.
    second = inbound(
        inbox, "Do you deliver on Saturdays?", sender_name="Kari", subject="Weekend delivery"
    )
    page.wait_for_selector(f".conversation-item[data-id='{second.conversation.pk}']")  # type: ignore[attr-defined]
    # And the customer writes again in the open conversation.
    inbound(inbox, "Any update?", conversation=first.conversation)
    page.wait_for_selector(".entry.inbound >> text=Any update?")  # type: ignore[attr-defined]

    page.fill("#composer-body", "It ships today, sorry for the wait.")  # type: ignore[attr-defined]
    page.keyboard.press("Control+Enter")  # type: ignore[attr-defined]
    page.wait_for_selector(".entry.outbound >> text=It ships today")  # type: ignore[attr-defined]
    reply = Message.objects.get(direction="outbound")
    assert reply.conversation_id == first.conversation.pk
    assert reply.author == people.agent
    assert page.locator(".entry.outbound").count() == 1  # type: ignore[attr-defined]


def test_a_teammate_viewing_the_same_conversation_shows_up(
    hub_server: str, browser: object
) -> None:
    people = make_personas()
    conversation = inbound(make_inbox(people.support)).conversation
    pages = []
    for user in (people.agent, people.teammate):
        page = browser.new_context().new_page()  # type: ignore[attr-defined]
        sign_in(page, hub_server, user.email)
        page.wait_for_selector("#connection[data-state=live]")
        page.click(f".conversation-item[data-id='{conversation.pk}']")
        pages.append(page)
    alice, bob = pages
    alice.wait_for_selector("#collision >> text=Bob Teammate is viewing")
    bob.fill("#composer-body", "drafting…")
    alice.wait_for_selector("#collision >> text=Bob Teammate is replying")


def test_a_partner_sees_only_what_is_shared_with_their_organization(
    hub_server: str, page: object
) -> None:
    people = make_personas()
    inbox = make_inbox(people.support)
    shared = inbound(
        inbox, "Spare part for pump P-20", thread_key="1", subject="Pump part"
    ).conversation
    inbound(inbox, "Internal pricing question", thread_key="2", subject="Pricing")
    actions.do_share(shared, people.org_a, by=people.agent)
    actions.do_add_note(shared, "Our margin is thin here", by=people.agent)
    actions.do_add_note(shared, "Please confirm stock", by=people.agent, share_with=[people.org_a])

    sign_in(page, hub_server, people.partner_a.email)
    page.wait_for_url(f"{hub_server}/portal/")  # type: ignore[attr-defined]
    page.wait_for_selector(".conversation-item")  # type: ignore[attr-defined]
    titles = page.locator(".conversation-item .subject").all_inner_texts()  # type: ignore[attr-defined]
    assert titles == ["Pump part"]
    page.click(".conversation-item")  # type: ignore[attr-defined]
    page.wait_for_selector(".entry.note")  # type: ignore[attr-defined]
    timeline = page.locator("#timeline").inner_text()  # type: ignore[attr-defined]
    assert "Please confirm stock" in timeline
    assert "margin" not in timeline
    page.fill("#composer-body", "In stock, ships Monday")  # type: ignore[attr-defined]
    page.click("#composer button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector(".entry.outbound >> text=In stock")  # type: ignore[attr-defined]
    assert Message.objects.get(direction="outbound").author == people.partner_a


def test_an_agent_reads_why_a_conversation_was_routed_to_them(
    hub_server: str, page: object
) -> None:
    people = make_personas()
    RoutingRule.objects.create(
        name="Refunds", position=1, conditions={"words": ["refund"]}, actions={"priority": "high"}
    )
    conversation = inbound(
        make_inbox(people.support), "I want a refund for order 9", subject="Refund"
    ).conversation
    sign_in(page, hub_server, people.agent.email)
    page.wait_for_selector("#connection[data-state=live]")  # type: ignore[attr-defined]
    page.click(f".conversation-item[data-id='{conversation.pk}']")  # type: ignore[attr-defined]
    page.click("#routing-trace summary")  # type: ignore[attr-defined]
    page.wait_for_selector(  # type: ignore[attr-defined]
        "#routing-trace-lines >> text=rule 'Refunds' matched: words: refund"
    )
    # A new message (an event, which carries no trace) keeps the trace on screen.
    inbound(conversation.inbox, "Any news?", conversation=conversation)
    page.wait_for_selector(".entry.inbound >> text=Any news?")  # type: ignore[attr-defined]
    assert page.locator("#routing-trace-lines li").first.is_visible()  # type: ignore[attr-defined]
