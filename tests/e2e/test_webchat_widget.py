"""The embeddable chat widget in a real browser: one script tag, a live round trip,
and a reload that continues the conversation."""

from __future__ import annotations

from inbox import actions
from inbox.models import Conversation
from tests.factories import make_personas
from tests.inbox_fixtures import make_inbox

WIDGET = "div[data-hub-webchat]"


def test_a_visitor_chats_through_the_widget_and_sees_the_agent_reply_live(
    hub_server: str, page: object
) -> None:
    people = make_personas()
    make_inbox(people.support, key="shop")
    page.goto(f"{hub_server}/chat/shop/")  # type: ignore[attr-defined]
    page.click(f"{WIDGET} >> css=.launcher")  # type: ignore[attr-defined]
    page.fill(f"{WIDGET} >> css=input[name=name]", "Ingrid")  # type: ignore[attr-defined]
    page.fill(f"{WIDGET} >> css=textarea", "Har dere denne i blått?")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_selector(f"{WIDGET} >> css=.msg.inbound")  # type: ignore[attr-defined]

    conversation = Conversation.objects.select_related("contact").get(channel="chat")
    assert conversation.messages.get().body_text == "Har dere denne i blått?"
    actions.do_reply(conversation, "Ja, i tre størrelser.", by=people.agent)
    reply = page.wait_for_selector(f"{WIDGET} >> css=.msg.outbound")  # type: ignore[attr-defined]
    assert "Ja, i tre størrelser." in reply.inner_text()
    assert "Alice Agent" in reply.inner_text()

    page.reload()  # type: ignore[attr-defined]
    page.click(f"{WIDGET} >> css=.launcher")  # type: ignore[attr-defined]
    page.wait_for_selector(f"{WIDGET} >> css=.msg.outbound")  # type: ignore[attr-defined]
    texts = page.locator(f"{WIDGET} >> css=.msg").all_inner_texts()  # type: ignore[attr-defined]
    assert len(texts) == 2
    page.fill(f"{WIDGET} >> css=textarea", "Takk!")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "document.querySelector('div[data-hub-webchat]').shadowRoot.querySelectorAll('.msg').length === 3"
    )
    assert Conversation.objects.count() == 1
    assert conversation.messages.count() == 3
