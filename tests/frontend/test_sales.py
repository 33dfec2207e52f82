"""The sales pages: staff see accounts, contacts, the pipeline and tasks; partners 404."""

from __future__ import annotations

import pytest

from hub.models import Account, Contact, Deal, DealStage, Task
from inbox.models import Channel
from kb_documents import actions as kb_actions
from kb_documents.actions import Sharing
from tests.conftest import login_client
from tests.factories import Personas
from tests.inbox_fixtures import inbound, make_inbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm(people: Personas) -> dict[str, object]:
    account = Account.objects.create(name="Acme Shipping", domain="acme.test")
    contact = Contact.objects.create(name="Nora Nilsen", account=account, job_title="CTO")
    colleague = Contact.objects.create(name="Ola Olsen", account=account)
    deal = Deal.objects.create(title="Fleet renewal", account=account, contact=contact)
    won = Deal.objects.create(title="Old win", account=account, stage=DealStage.WON)
    kb_actions.do_add_note(
        "Prefers calls after lunch", by=people.salesperson, sharing=Sharing(contact=contact)
    )
    chat = inbound(make_inbox(people.support, key="web"), "Chat hello", contact=contact)
    mail = inbound(
        make_inbox(people.support, key="mail", channel=Channel.EMAIL),
        "Mail hello",
        contact=contact,
        subject="Invoice question",
    )
    return {
        "account": account,
        "contact": contact,
        "colleague": colleague,
        "deal": deal,
        "won": won,
        "chat": chat.conversation,
        "mail": mail.conversation,
    }


@pytest.mark.parametrize("persona", ["salesperson", "agent", "supervisor", "admin"])
def test_staff_may_use_every_sales_page(people: Personas, crm: dict, persona: str) -> None:
    client = login_client(getattr(people, persona))
    for path in (
        "/sales/accounts/",
        f"/sales/accounts/{crm['account'].pk}/",
        f"/sales/contacts/{crm['contact'].pk}/",
        f"/sales/contacts/{crm['contact'].pk}/panel/",
        "/sales/pipeline/",
        "/sales/tasks/",
    ):
        assert client.get(path).status_code == 200, path
    assert client.get("/sales/").status_code == 302


def test_partners_get_404_on_every_sales_page(people: Personas, crm: dict) -> None:
    client = login_client(people.partner_a)
    for path in (
        "/sales/",
        "/sales/accounts/",
        f"/sales/accounts/{crm['account'].pk}/",
        f"/sales/contacts/{crm['contact'].pk}/",
        f"/sales/contacts/{crm['contact'].pk}/panel/",
        "/sales/pipeline/",
        "/sales/tasks/",
    ):
        assert client.get(path).status_code == 404, path


def test_anonymous_visitors_are_sent_to_sign_in(crm: dict) -> None:
    from django.test import Client

    response = Client().get("/sales/pipeline/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_account_list_searches_accounts_and_contacts(people: Personas, crm: dict) -> None:
    Account.objects.create(name="Other Corp")
    page = login_client(people.salesperson).get("/sales/accounts/?q=acme").content.decode()
    assert "Acme Shipping" in page
    assert "Other Corp" not in page
    assert "Nora Nilsen" in page  # a contact of a matching account


def test_the_contact_page_shows_everything_about_the_contact(people: Personas, crm: dict) -> None:
    page = login_client(people.salesperson).get(f"/sales/contacts/{crm['contact'].pk}/")
    text = page.content.decode()
    assert "Ola Olsen" in text  # related contact
    assert "Fleet renewal" in text
    assert "Old win" not in text  # only open deals
    assert "Prefers calls after lunch" in text
    assert "Invoice question" in text  # the e-mail conversation
    assert f'data-conversation="{crm["chat"].pk}"' in text  # and the chat one


def test_the_profile_panel_marks_the_open_conversation(people: Personas, crm: dict) -> None:
    path = f"/sales/contacts/{crm['contact'].pk}/panel/?conversation={crm['chat'].pk}"
    text = login_client(people.agent).get(path).content.decode()
    assert f'data-conversation="{crm["chat"].pk}" aria-current="true"' in text
    assert "Invoice question" in text
    assert "<html" not in text  # a fragment


def test_the_pipeline_shows_every_deal_in_its_stage(people: Personas, crm: dict) -> None:
    response = login_client(people.salesperson).get("/sales/pipeline/")
    columns = {column["stage"]: column["deals"] for column in response.context["columns"]}
    assert [deal.title for deal in columns["prospecting"]] == ["Fleet renewal"]
    assert [deal.title for deal in columns["won"]] == ["Old win"]


def test_tasks_mine_and_all(people: Personas, crm: dict) -> None:
    Task.objects.create(title="Call Nora", assignee=people.salesperson)
    Task.objects.create(title="Send offer", assignee=people.agent)
    client = login_client(people.salesperson)
    mine = client.get("/sales/tasks/").content.decode()
    assert "Call Nora" in mine and "Send offer" not in mine
    every = client.get("/sales/tasks/?scope=all").content.decode()
    assert "Call Nora" in every and "Send offer" in every


def test_the_console_links_to_the_sales_pages(people: Personas) -> None:
    page = login_client(people.agent).get("/").content.decode()
    assert 'href="/sales/pipeline/"' in page


def test_the_sales_pages_are_in_norwegian_for_a_norwegian_user(people: Personas, crm: dict) -> None:
    people.salesperson.language = "nb"
    people.salesperson.save()
    page = login_client(people.salesperson).get("/sales/pipeline/").content.decode()
    assert "Salgstrakt" in page


def test_the_new_javascript_strings_are_translated(people: Personas) -> None:
    people.salesperson.language = "nb"
    people.salesperson.save()
    catalog = login_client(people.salesperson).get("/jsi18n/").content.decode()
    assert "Oppgaven er merket som fullf" in catalog
    assert "Ingen standardsvar passer." in catalog
