"""Sales metrics on hand-built deals, with exact figures."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from hub import sales_metrics
from hub.actions import do_save_deal
from hub.models import Account, Contact, Deal, DealStage, DealStageChange
from tests.factories import Personas

pytestmark = pytest.mark.django_db


def _deal(account: Account, stage: str, value: int = 100, **fields: object) -> Deal:
    return do_save_deal(
        Deal(title="D", account=account, stage=stage, value=Decimal(value), **fields)
    )


def test_close_rate_is_won_over_won_and_lost_closed_in_the_range(people: Personas) -> None:
    account = Account.objects.create(name="A")
    for _ in range(3):
        _deal(account, DealStage.WON, owner=people.salesperson)
    _deal(account, DealStage.LOST, owner=people.salesperson)
    _deal(account, DealStage.PROPOSAL)  # open: not closed, not counted
    old = _deal(account, DealStage.WON)
    Deal.objects.filter(pk=old.pk).update(closed_at=timezone.now() - timedelta(days=90))
    start, end = timezone.now() - timedelta(days=30), timezone.now() + timedelta(days=1)

    result = sales_metrics.close_rate(start, end)
    assert (result.won, result.lost, result.rate) == (3, 1, 75.0)
    assert sales_metrics.close_rate(start, end, owner_id=people.supervisor.pk).rate is None


def test_saving_a_deal_records_its_stage_history_and_cycle_lengths(people: Personas) -> None:
    account = Account.objects.create(name="A")
    deal = _deal(account, DealStage.PROSPECTING)
    deal.stage = DealStage.PROPOSAL
    do_save_deal(deal)
    deal.value = Decimal(200)  # no stage change: no history row
    do_save_deal(deal)
    deal.stage = DealStage.WON
    do_save_deal(deal)
    changes = list(DealStageChange.objects.filter(deal=deal))
    assert [(c.from_stage, c.to_stage) for c in changes] == [
        ("", "prospecting"),
        ("prospecting", "proposal"),
        ("proposal", "won"),
    ]
    day0 = timezone.now() - timedelta(days=5)
    for change, day in zip(changes, (0, 2, 5), strict=True):
        DealStageChange.objects.filter(pk=change.pk).update(changed_at=day0 + timedelta(days=day))
    Deal.objects.filter(pk=deal.pk).update(created_at=day0, closed_at=day0 + timedelta(days=5))

    cycle = sales_metrics.sales_cycle_per_stage(day0 - timedelta(days=1), timezone.now())
    assert cycle["per_stage"] == {"prospecting": 2.0, "proposal": 3.0}
    assert cycle["won_cycle"] == 5.0


def test_pipeline_value_and_forecast_weighted_by_stage_probability(
    people: Personas, settings: object
) -> None:
    settings.DEAL_STAGE_PROBABILITIES = {"prospecting": 0.1, "proposal": 0.5}  # type: ignore[attr-defined]
    account = Account.objects.create(name="A")
    march = timezone.now().date().replace(day=1) + timedelta(days=40)
    _deal(account, DealStage.PROSPECTING, 1000, expected_close=march)
    _deal(account, DealStage.PROPOSAL, 400, expected_close=march)
    _deal(account, DealStage.PROPOSAL, 600)
    _deal(account, DealStage.WON, 250)
    pipeline = {row["stage"]: row for row in sales_metrics.pipeline_by_stage()}
    assert (pipeline["prospecting"]["deals"], pipeline["prospecting"]["value"]) == (1, 1000)
    assert (pipeline["proposal"]["deals"], pipeline["proposal"]["value"]) == (2, 1000)

    start, end = timezone.now() - timedelta(days=1), timezone.now() + timedelta(days=1)
    result = sales_metrics.forecast(start, end)
    month = f"{march.year:04d}-{march.month:02d}"
    assert result["weighted_by_month"] == {
        month: Decimal("300.00"),  # 1000 * 0.1 + 400 * 0.5
        "unscheduled": Decimal("300.00"),  # 600 * 0.5
    }
    assert result["weighted_total"] == Decimal("600.00")
    this_month = timezone.now().strftime("%Y-%m")
    assert result["won_by_month"] == {this_month: Decimal(250)}


def test_churn_counts_customers_whose_last_purchase_lapses_in_the_range(
    people: Personas, settings: object
) -> None:
    settings.CHURN_AFTER_DAYS = 365  # type: ignore[attr-defined]
    start = timezone.now() - timedelta(days=30)
    end = timezone.now()

    def won_at(account: Account, when: object) -> None:
        deal = _deal(account, DealStage.WON)
        Deal.objects.filter(pk=deal.pk).update(closed_at=when)

    lapsing = Account.objects.create(name="Lapsing")
    won_at(lapsing, start - timedelta(days=350))  # lapses 15 days into the range
    loyal = Account.objects.create(name="Loyal")
    won_at(loyal, start - timedelta(days=100))
    gone = Account.objects.create(name="Gone before")
    won_at(gone, start - timedelta(days=400))  # no longer a customer at the start
    renewed = Account.objects.create(name="Renewed")
    won_at(renewed, start - timedelta(days=350))
    won_at(renewed, start + timedelta(days=5))  # bought again: does not lapse

    result = sales_metrics.churn(start, end)
    assert result.customers_at_start == 3
    assert result.churned == [lapsing.pk]
    assert round(result.rate or 0, 2) == 33.33


def test_segments_by_attribute_and_purchase_history(people: Personas) -> None:
    gold = Account.objects.create(name="G", tier="gold", country="NO")
    Contact.objects.create(name="g1", account=gold)
    Contact.objects.create(name="g2", account=gold)
    _deal(gold, DealStage.WON, 20_000)
    _deal(gold, DealStage.WON, 5_000)
    Account.objects.create(name="S", tier="standard", country="NO")
    by_tier = {row["segment"]: row for row in sales_metrics.segments("tier")}
    assert by_tier["gold"] == {
        "segment": "gold",
        "accounts": 1,
        "contacts": 2,
        "customers": 1,
        "won": Decimal(25_000),
    }
    assert by_tier["standard"]["customers"] == 0
    by_purchase = {row["segment"]: row["accounts"] for row in sales_metrics.segments("purchase")}
    assert by_purchase == {"10 000 to 100 000": 1, "No purchases": 1}
    with pytest.raises(ValueError):
        sales_metrics.segments("password")


def test_contacts_segment_by_their_attributes_and_their_accounts_purchases(
    people: Personas,
) -> None:
    gold = Account.objects.create(name="G", tier="gold")
    a = Contact.objects.create(name="a", account=gold, country="NO")
    b = Contact.objects.create(name="b", account=gold, country="SE")
    c = Contact.objects.create(name="c", country="NO")
    _deal(gold, DealStage.WON, 500)
    for contact, score in ((a, 40), (b, 20), (c, 10)):  # after scoring has run on the deal
        Contact.objects.filter(pk=contact.pk).update(lead_score=score)
    by_country = {g["segment"]: g for g in sales_metrics.contact_segments("country")}
    assert by_country["NO"] == {"segment": "NO", "contacts": 2, "lead_score": 25.0}
    assert by_country["SE"]["contacts"] == 1
    by_purchase = {g["segment"]: g["contacts"] for g in sales_metrics.contact_segments("purchase")}
    assert by_purchase == {"Under 10 000": 2, "No purchases": 1}
