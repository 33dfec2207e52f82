"""Sales pages, the profile panel and canned responses in Chromium against Daphne."""

from __future__ import annotations

from hub.models import Account, Contact, Deal, DealStage
from inbox.models import CannedResponse, Channel
from kb_documents import actions as kb_actions
from kb_documents.actions import Sharing
from tests.e2e.test_console import sign_in
from tests.factories import make_personas
from tests.inbox_fixtures import inbound, make_inbox


def test_dragging_a_deal_to_another_stage_is_saved(hub_server: str, page: object) -> None:
    people = make_personas()
    account = Account.objects.create(name="Fjord Freight")
    deal = Deal.objects.create(title="Harbour cranes", account=account)
    other = Deal.objects.create(title="Spare tyres", account=account)
    sign_in(page, hub_server, people.salesperson.email)
    page.wait_for_selector("#connection")  # type: ignore[attr-defined]
    page.goto(f"{hub_server}/sales/pipeline/")  # type: ignore[attr-defined]
    card = f".deal-card[data-deal='{deal.pk}']"
    page.drag_and_drop(card, ".pipeline-column[data-stage='proposal']")  # type: ignore[attr-defined]
    page.wait_for_selector(f".pipeline-column[data-stage='proposal'] {card}:not([data-saving])")  # type: ignore[attr-defined]
    page.wait_for_selector("#pipeline-status >> text=Harbour cranes")  # type: ignore[attr-defined]
    deal.refresh_from_db()
    assert deal.stage == DealStage.PROPOSAL

    # The keyboard alternative: the stage list on the card.
    page.select_option(f".deal-card[data-deal='{other.pk}'] select", "won")  # type: ignore[attr-defined]
    page.wait_for_selector(
        f".pipeline-column[data-stage='won'] .deal-card[data-deal='{other.pk}']:not([data-saving])"
    )  # type: ignore[attr-defined]

    page.reload()  # type: ignore[attr-defined]
    assert page.locator(f".pipeline-column[data-stage='proposal'] {card}").count() == 1  # type: ignore[attr-defined]
    assert (
        page.locator(
            f".pipeline-column[data-stage='won'] .deal-card[data-deal='{other.pk}']"
        ).count()
        == 1
    )  # type: ignore[attr-defined]


def test_the_profile_panel_shows_deals_notes_and_the_other_channel(
    hub_server: str, page: object
) -> None:
    people = make_personas()
    account = Account.objects.create(name="Nordlys AS")
    contact = Contact.objects.create(name="Ingrid Berg", account=account)
    Contact.objects.create(name="Per Hansen", account=account)
    Deal.objects.create(title="Solar roof", account=account, contact=contact)
    kb_actions.do_add_note("Key decision maker", by=people.agent, sharing=Sharing(contact=contact))
    CannedResponse.objects.create(
        shortcut="thanks", title="Thanks", body="Thanks {{contact.first_name}}, we are on it."
    )
    chat = inbound(make_inbox(people.support, key="web"), "Hi from chat", contact=contact)
    mail = inbound(
        make_inbox(people.support, key="mail", channel=Channel.EMAIL),
        "Invoice attached",
        contact=contact,
        subject="Invoice 2231",
    )
    sign_in(page, hub_server, people.agent.email)
    page.wait_for_selector("#connection[data-state=live]")  # type: ignore[attr-defined]
    page.click(f".conversation-item[data-id='{chat.conversation.pk}']")  # type: ignore[attr-defined]
    panel = page.locator("#profile .profile-panel")  # type: ignore[attr-defined]
    panel.wait_for()
    text = panel.inner_text()
    assert "Ingrid Berg" in text and "Per Hansen" in text
    assert "Solar roof" in text
    assert "Key decision maker" in text
    assert "Invoice 2231" in text  # the e-mail conversation beside the chat
    assert (
        page.locator(
            f"#profile [data-conversation='{chat.conversation.pk}'][aria-current=true]"
        ).count()
        == 1
    )  # type: ignore[attr-defined]

    # A canned response, typed as /shortcut, with its placeholder filled.
    page.click("#composer-body")  # type: ignore[attr-defined]
    page.keyboard.type("/than")  # type: ignore[attr-defined]
    page.wait_for_selector("#canned-list [role=option] >> text=/thanks")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    assert page.input_value("#composer-body") == "Thanks Ingrid, we are on it."  # type: ignore[attr-defined]

    # The other channel's conversation opens from the panel.
    page.click(f"#profile [data-conversation='{mail.conversation.pk}'] a")  # type: ignore[attr-defined]
    page.wait_for_selector("#thread-subject >> text=Invoice 2231")  # type: ignore[attr-defined]


def test_keyboard_shortcuts_and_the_help_overlay(hub_server: str, page: object) -> None:
    people = make_personas()
    inbox = make_inbox(people.support)
    inbound(inbox, "First", thread_key="1", subject="First one")
    inbound(inbox, "Second", thread_key="2", subject="Second one")
    sign_in(page, hub_server, people.agent.email)
    page.wait_for_selector("#connection[data-state=live]")  # type: ignore[attr-defined]
    page.wait_for_selector(".conversation-item")  # type: ignore[attr-defined]
    page.keyboard.press("j")  # type: ignore[attr-defined]
    page.wait_for_selector("#thread:not([hidden])")  # type: ignore[attr-defined]
    page.keyboard.press("?")  # type: ignore[attr-defined]
    page.wait_for_selector("#shortcut-help:not([hidden])")  # type: ignore[attr-defined]
    page.keyboard.press("Escape")  # type: ignore[attr-defined]
    page.wait_for_selector("#shortcut-help", state="hidden")  # type: ignore[attr-defined]
    page.keyboard.press("n")  # type: ignore[attr-defined]
    assert page.evaluate("document.activeElement.id") == "composer-body"  # type: ignore[attr-defined]
    # Typing in the composer does not trigger shortcuts.
    page.keyboard.type("jke?")  # type: ignore[attr-defined]
    assert page.input_value("#composer-body") == "jke?"  # type: ignore[attr-defined]
    assert page.locator("#shortcut-help").is_hidden()  # type: ignore[attr-defined]


def test_a_partner_gets_404_on_the_sales_pages(hub_server: str, page: object) -> None:
    people = make_personas()
    account = Account.objects.create(name="Hidden AS")
    sign_in(page, hub_server, people.partner_a.email)
    page.wait_for_url("**/portal/")  # type: ignore[attr-defined]
    for path in ("/sales/accounts/", f"/sales/accounts/{account.pk}/", "/sales/pipeline/"):
        response = page.goto(f"{hub_server}{path}")  # type: ignore[attr-defined]
        assert response.status == 404, path
        assert "Hidden AS" not in page.content()  # type: ignore[attr-defined]


def test_a_salesperson_creates_a_deal_and_a_task_from_the_account_page(
    hub_server: str, page: object
) -> None:
    from hub.models import Task

    people = make_personas()
    account = Account.objects.create(name="Fjellheim Hotell")
    sign_in(page, hub_server, people.salesperson.email)
    page.wait_for_selector("#connection")  # type: ignore[attr-defined]
    page.goto(f"{hub_server}/sales/accounts/{account.pk}/")  # type: ignore[attr-defined]

    page.click(".create-form summary >> text=New deal")  # type: ignore[attr-defined]
    page.fill("#deal-title", "Conference wing Wi-Fi")  # type: ignore[attr-defined]
    page.fill("#deal-value", "-5")  # type: ignore[attr-defined]
    # The browser's own check stops a negative value; the API's is the one that counts.
    page.eval_on_selector(".deal-form", "form => form.noValidate = true")  # type: ignore[attr-defined]
    page.click(".deal-form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector(".deal-form .error:not(:empty)")  # type: ignore[attr-defined]
    assert not Deal.objects.exists()

    page.fill("#deal-value", "120000")  # type: ignore[attr-defined]
    page.fill("#deal-currency", "nok")  # type: ignore[attr-defined]
    page.select_option("#deal-stage", "proposal")  # type: ignore[attr-defined]
    page.click(".deal-form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("#deal-list >> text=Conference wing Wi-Fi")  # type: ignore[attr-defined]
    deal = Deal.objects.get()
    assert (deal.account, deal.owner, deal.stage, deal.currency, deal.value) == (
        account,
        people.salesperson,
        DealStage.PROPOSAL,
        "NOK",
        120000,
    )

    page.click(".create-form summary >> text=New task")  # type: ignore[attr-defined]
    page.fill("#task-title", "Call the IT manager about the survey")  # type: ignore[attr-defined]
    page.fill("#task-due", "2030-03-04T09:30")  # type: ignore[attr-defined]
    page.click(".task-form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector(".task-form [role=status] >> text=Call the IT manager")  # type: ignore[attr-defined]
    task = Task.objects.get(title="Call the IT manager about the survey")
    assert (task.account, task.assignee, task.due_at.year) == (account, people.salesperson, 2030)

    # Both stay after a reload: the deal on the account, the task in "my tasks".
    page.reload()  # type: ignore[attr-defined]
    assert page.locator("#deal-list >> text=Conference wing Wi-Fi").count() == 1  # type: ignore[attr-defined]
    page.goto(f"{hub_server}/sales/tasks/")  # type: ignore[attr-defined]
    page.wait_for_selector("#task-list >> text=Call the IT manager about the survey")  # type: ignore[attr-defined]
