"""Lead scoring with admin-set weights, recomputed on events, and the deal-value
automation: a call task above the threshold, the nurture list below (issue 7 item 5)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hub.actions import do_save_deal
from hub.models import Account, Contact, Deal, DealStage, LeadScoring, Tag, Task
from hub.scoring import compute_lead_score, record_interaction
from tests.conftest import login_client
from tests.factories import Personas
from tests.inbox_fixtures import inbound, make_inbox

pytestmark = pytest.mark.django_db

ZERO = {
    "size_weight": 0,
    "interactions_weight": 0,
    "recency_weight": 0,
    "deal_value_weight": 0,
}


def only(**weights: object) -> LeadScoring:
    return LeadScoring.objects.create(**{**ZERO, **weights})


def customer(employees: int = 0, interactions: int = 0, days_ago: float | None = None) -> Contact:
    account = Account.objects.create(name="Acme", employees=employees)
    return Contact.objects.create(
        name="Ann",
        account=account,
        interaction_count=interactions,
        last_interaction_at=None if days_ago is None else timezone.now() - timedelta(days=days_ago),
    )


@pytest.mark.parametrize(
    ("weights", "setup", "score"),
    [
        ({"size_weight": 20}, {"employees": 250}, 5),
        ({"size_weight": 20}, {"employees": 5000}, 20),  # capped at size_full_at
        ({"interactions_weight": 20}, {"interactions": 5}, 5),
        ({"interactions_weight": 20}, {"interactions": 99}, 20),
        ({"recency_weight": 20}, {"days_ago": 0}, 20),
        ({"recency_weight": 20}, {"days_ago": 15}, 10),
        ({"recency_weight": 20}, {"days_ago": 45}, 0),
        ({"recency_weight": 20}, {}, 0),
        ({"size_weight": 10, "size_full_at": 100}, {"employees": 50}, 5),
    ],
)
def test_each_criterion_is_weighted(weights: dict, setup: dict, score: int) -> None:
    settings = only(**weights)

    assert compute_lead_score(customer(**setup), settings) == score


def test_deal_value_counts_the_largest_open_deal() -> None:
    settings = only(deal_value_weight=40, deal_value_full_at=Decimal("10000"))
    contact = customer()
    Deal.objects.create(title="Small", account=contact.account, value=Decimal("2500"))
    Deal.objects.create(title="Big", account=contact.account, value=Decimal("5000"))
    Deal.objects.create(
        title="Won", account=contact.account, value=Decimal("90000"), stage=DealStage.WON
    )

    assert compute_lead_score(contact, settings) == 20


def test_tags_on_the_contact_or_its_account_add_their_points() -> None:
    settings = only(tag_points={"vip": 15, "churn-risk": -10, "unused": 99})
    contact = customer()
    contact.tags.add(Tag.objects.create(name="vip"))
    contact.account.tags.add(Tag.objects.create(name="churn-risk"))

    assert compute_lead_score(contact, settings) == 5


def test_an_inbound_message_counts_as_an_interaction_and_rescores(people: Personas) -> None:
    only(interactions_weight=20, interactions_full_at=4, recency_weight=10)
    contact = customer()
    inbox = make_inbox(people.support)

    inbound(inbox, "one", contact=contact, thread_key="a")
    inbound(inbox, "two", contact=contact, thread_key="a")

    contact.refresh_from_db()
    assert contact.interaction_count == 2
    assert contact.lead_score == 20  # 2/4 of 20 + a fresh interaction's 10


def test_a_contact_read_with_its_deal_value_is_counted_in_one_statement() -> None:
    only(
        interactions_weight=20,
        interactions_full_at=4,
        deal_value_weight=40,
        deal_value_full_at=Decimal("10000"),
    )
    contact = customer(interactions=1)
    Deal.objects.create(title="Big", account=contact.account, value=Decimal("5000"))

    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        interaction = record_interaction(contact, deal_value=Decimal("5000.00"))

    on_contacts = [q["sql"] for q in queries.captured_queries if '"hub_contact"' in q["sql"]]
    assert [sql.split()[0] for sql in on_contacts] == ["UPDATE"], on_contacts
    contact.refresh_from_db()
    assert contact.interaction_count == 2
    assert contact.lead_score == interaction.lead_score == 30  # 2/4 of 20 + half of 40


def test_a_count_read_before_another_message_arrived_is_not_lost() -> None:
    only(interactions_weight=20, interactions_full_at=4)
    contact = customer(interactions=1)
    read_early = Contact.objects.select_related("account").get(pk=contact.pk)
    record_interaction(contact)  # another message of the contact, in the meantime

    interaction = record_interaction(read_early, deal_value=Decimal("0"))

    contact.refresh_from_db()
    assert contact.interaction_count == read_early.interaction_count == 3
    assert contact.lead_score == interaction.lead_score == 15


def test_saving_a_deal_rescores_the_accounts_contacts() -> None:
    only(deal_value_weight=40, deal_value_full_at=Decimal("10000"))
    contact = customer()

    do_save_deal(Deal(title="Pumps", account=contact.account, value=Decimal("7500")))

    contact.refresh_from_db()
    assert contact.lead_score == 30


def test_the_defaults_apply_without_a_configuration_row() -> None:
    contact = customer(employees=1000, interactions=20, days_ago=0)

    assert compute_lead_score(contact) == 60


# ------------------------------------------------------------ deal automation


def test_a_deal_above_the_threshold_gives_the_account_owner_a_call_task_once(
    people: Personas,
) -> None:
    account = Account.objects.create(name="Acme", owner=people.salesperson)
    deal = do_save_deal(Deal(title="Fleet", account=account, value=Decimal("10000")))
    do_save_deal(deal)

    task = Task.objects.get(deal=deal)
    assert task.title == "Call about deal Fleet"
    assert task.assignee == people.salesperson
    assert task.account == account
    assert not account.tags.filter(name="nurture").exists()


def test_a_deal_below_the_threshold_puts_the_account_on_the_nurture_list(
    people: Personas,
) -> None:
    account = Account.objects.create(name="Acme", owner=people.salesperson)

    deal = do_save_deal(Deal(title="Small", account=account, value=Decimal("9999.99")))

    assert list(account.tags.values_list("name", flat=True)) == ["nurture"]
    assert not Task.objects.filter(deal=deal).exists()

    deal.value = Decimal("25000")
    do_save_deal(deal)

    assert not account.tags.filter(name="nurture").exists()
    assert Task.objects.filter(deal=deal, assignee=people.salesperson).count() == 1


def test_the_threshold_and_the_nurture_tag_are_configurable(people: Personas) -> None:
    LeadScoring.objects.create(call_task_threshold=Decimal("500"), nurture_tag="drip")
    account = Account.objects.create(name="Acme")

    small = do_save_deal(Deal(title="Tiny", account=account, value=Decimal("100")))
    big = do_save_deal(Deal(title="Medium", account=account, value=Decimal("600")))

    assert account.tags.filter(name="drip").exists() is False  # the bigger deal took it off
    assert not Task.objects.filter(deal=small).exists()
    # Neither the account nor the deal has an owner: the task waits unassigned.
    assert Task.objects.get(deal=big).assignee is None


def test_closed_deals_trigger_nothing() -> None:
    account = Account.objects.create(name="Acme")

    do_save_deal(Deal(title="Done", account=account, value=Decimal("90000"), stage="won"))

    assert not Task.objects.exists()
    assert not account.tags.exists()


def test_a_deal_saved_through_the_api_runs_the_automation(people: Personas) -> None:
    account = Account.objects.create(name="Acme", owner=people.salesperson)

    response = login_client(people.salesperson).post(
        "/api/v1/deals/",
        {"title": "Pumps", "account": account.pk, "value": "12000.00"},
        content_type="application/json",
    )

    assert response.status_code == 201
    assert Task.objects.get(deal_id=response.json()["id"]).assignee == people.salesperson


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"tag_points": {"vip": "lots"}}, "tag_points"),
        ({"tag_points": ["vip"]}, "tag_points"),
        ({"recency_days": 0}, "recency_days"),
        ({"deal_value_full_at": Decimal("0")}, "deal_value_full_at"),
        ({"nurture_tag": " "}, "nurture_tag"),
    ],
)
def test_bad_scoring_settings_are_refused(fields: dict, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        LeadScoring(**fields).full_clean()

    assert field in error.value.message_dict


def test_rescore_leads_applies_new_weights_to_everyone() -> None:
    contact = customer(employees=1000)
    LeadScoring.objects.create(**{**ZERO, "size_weight": 30})
    out = StringIO()

    call_command("rescore_leads", stdout=out)

    contact.refresh_from_db()
    assert contact.lead_score == 30
    assert "1 contact(s) changed" in out.getvalue()
