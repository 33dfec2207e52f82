"""Sales metrics over deals, accounts and contacts (analytics, issue 11).

Exact definitions (docs/architecture.md, "Analytics, surveys and reports"); ranges are
half-open [start, end) on aware datetimes:

- Close rate: deals closed in the range (closed_at), won / (won + lost), in percent.
- Sales cycle per stage: each move into a stage (DealStageChange) starts a stay that
  ends with the deal's next move; the average length in days of stays that *ended* in
  the range, per stage. Total cycle: created_at → closed_at of deals won in the range.
- Pipeline value per stage: open deals (prospecting, proposal), count and value sum.
- Forecast: open deals' value * stage probability (settings.DEAL_STAGE_PROBABILITIES),
  by month of expected close (deals without one: "unscheduled"), next to the won
  value by month of closing over the range.
- Churn: an account is a customer while its last won deal is younger than
  CHURN_AFTER_DAYS (settings, default 365). It is lost on the day its last won deal
  turns that old; churned in a range = accounts whose lost day falls in it. Churn rate
  = churned / customers at the range start.
- Segments: accounts grouped by an attribute (tier, industry, country) or by purchase
  history (won value bucket), with their contacts, customers and won value.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q, Sum
from django.utils.translation import gettext as _

from hub.models import Account, Contact, Deal, DealStage, DealStageChange

OPEN_STAGES = (DealStage.PROSPECTING, DealStage.PROPOSAL)
DEFAULT_STAGE_PROBABILITIES = {DealStage.PROSPECTING: 0.2, DealStage.PROPOSAL: 0.6}


def stage_probabilities() -> dict[str, float]:
    configured = getattr(settings, "DEAL_STAGE_PROBABILITIES", None) or {}
    return {**DEFAULT_STAGE_PROBABILITIES, **configured}


@dataclass(frozen=True)
class CloseRate:
    won: int
    lost: int

    @property
    def rate(self) -> float | None:
        closed = self.won + self.lost
        return 100.0 * self.won / closed if closed else None


def close_rate(start: datetime, end: datetime, *, owner_id: int | None = None) -> CloseRate:
    deals = Deal.objects.filter(closed_at__gte=start, closed_at__lt=end)
    if owner_id:
        deals = deals.filter(owner_id=owner_id)
    row = deals.aggregate(
        won=Count("id", filter=Q(stage=DealStage.WON)),
        lost=Count("id", filter=Q(stage=DealStage.LOST)),
    )
    return CloseRate(row["won"], row["lost"])


def sales_cycle_per_stage(start: datetime, end: datetime) -> dict[str, Any]:
    stays: dict[str, list[float]] = defaultdict(list)
    previous: DealStageChange | None = None
    for change in DealStageChange.objects.order_by("deal_id", "changed_at", "id"):
        same_deal = previous is not None and previous.deal_id == change.deal_id
        if same_deal and start <= change.changed_at < end:
            days = (change.changed_at - previous.changed_at).total_seconds() / 86400
            stays[previous.to_stage].append(days)
        previous = change
    per_stage = {
        stage: (sum(stays[stage]) / len(stays[stage]) if stays[stage] else None)
        for stage in OPEN_STAGES
    }
    won = Deal.objects.filter(stage=DealStage.WON, closed_at__gte=start, closed_at__lt=end)
    cycles = [(d.closed_at - d.created_at).total_seconds() / 86400 for d in won]
    return {"per_stage": per_stage, "won_cycle": sum(cycles) / len(cycles) if cycles else None}


def pipeline_by_stage(*, owner_id: int | None = None) -> list[dict[str, Any]]:
    deals = Deal.objects.filter(stage__in=OPEN_STAGES)
    if owner_id:
        deals = deals.filter(owner_id=owner_id)
    totals = {
        row["stage"]: row for row in deals.values("stage").annotate(n=Count("id"), v=Sum("value"))
    }
    return [
        {
            "stage": stage,
            "label": str(DealStage(stage).label),
            "deals": totals.get(stage, {}).get("n", 0),
            "value": totals.get(stage, {}).get("v") or Decimal(0),
        }
        for stage in OPEN_STAGES
    ]


def _month(value: date | datetime) -> str:
    return f"{value.year:04d}-{value.month:02d}"


def forecast(start: datetime, end: datetime) -> dict[str, Any]:
    probabilities = stage_probabilities()
    weighted: dict[str, Decimal] = defaultdict(Decimal)
    for deal in Deal.objects.filter(stage__in=OPEN_STAGES):
        month = _month(deal.expected_close) if deal.expected_close else "unscheduled"
        weighted[month] += deal.value * Decimal(str(probabilities.get(deal.stage, 0)))
    won: dict[str, Decimal] = defaultdict(Decimal)
    for deal in Deal.objects.filter(stage=DealStage.WON, closed_at__gte=start, closed_at__lt=end):
        won[_month(deal.closed_at)] += deal.value
    return {
        "weighted_by_month": {k: v.quantize(Decimal("0.01")) for k, v in sorted(weighted.items())},
        "weighted_total": sum(weighted.values(), Decimal(0)).quantize(Decimal("0.01")),
        "won_by_month": dict(sorted(won.items())),
    }


@dataclass(frozen=True)
class Churn:
    customers_at_start: int
    churned: list[int]

    @property
    def rate(self) -> float | None:
        if not self.customers_at_start:
            return None
        return 100.0 * len(self.churned) / self.customers_at_start


def churn(start: datetime, end: datetime) -> Churn:
    window = timedelta(days=int(getattr(settings, "CHURN_AFTER_DAYS", 365)))
    last_won = (
        Deal.objects.filter(stage=DealStage.WON, account__isnull=False, closed_at__lt=end)
        .values("account_id")
        .annotate(last=Max("closed_at"))
    )
    # The last won deal before the range start decides whether it was a customer then.
    before = dict(
        Deal.objects.filter(stage=DealStage.WON, account__isnull=False, closed_at__lt=start)
        .values("account_id")
        .annotate(last=Max("closed_at"))
        .values_list("account_id", "last")
    )
    customers = {pk for pk, last in before.items() if last + window > start}
    churned = sorted(
        row["account_id"]
        for row in last_won
        if row["account_id"] in customers and start <= row["last"] + window < end
    )
    return Churn(len(customers), churned)


SEGMENT_ATTRIBUTES = ("tier", "industry", "country", "purchase")


def _purchase_bucket(value: Decimal) -> str:
    if value <= 0:
        return _("No purchases")
    if value < 10_000:
        return _("Under 10 000")
    if value < 100_000:
        return _("10 000 to 100 000")
    return _("100 000 and more")


def segments(attribute: str) -> list[dict[str, Any]]:
    if attribute not in SEGMENT_ATTRIBUTES:
        raise ValueError(f"unknown segment attribute {attribute!r}")
    # Two queries rather than one annotate: counting contacts and summing deals over
    # the same join would multiply the sums.
    won_by_account = dict(
        Deal.objects.filter(stage=DealStage.WON, account__isnull=False)
        .values("account_id")
        .annotate(v=Sum("value"))
        .values_list("account_id", "v")
    )
    groups: dict[str, dict[str, Any]] = {}
    for account in Account.objects.annotate(contacts_n=Count("contacts")):
        won = won_by_account.get(account.pk) or Decimal(0)
        if attribute == "purchase":
            key = _purchase_bucket(won)
        else:
            key = str(getattr(account, attribute) or _("(empty)"))
        group = groups.setdefault(
            key, {"segment": key, "accounts": 0, "contacts": 0, "customers": 0, "won": Decimal(0)}
        )
        group["accounts"] += 1
        group["contacts"] += account.contacts_n
        group["customers"] += 1 if won > 0 else 0
        group["won"] += won
    return sorted(groups.values(), key=lambda g: g["segment"])


CONTACT_SEGMENT_ATTRIBUTES = ("country", "language", "tier", "purchase")


def contact_segments(attribute: str) -> list[dict[str, Any]]:
    """Contacts grouped by their own country or language, or by their account's tier or
    purchase history (won value of the account)."""
    if attribute not in CONTACT_SEGMENT_ATTRIBUTES:
        raise ValueError(f"unknown segment attribute {attribute!r}")
    won_by_account = dict(
        Deal.objects.filter(stage=DealStage.WON, account__isnull=False)
        .values("account_id")
        .annotate(v=Sum("value"))
        .values_list("account_id", "v")
    )
    groups: dict[str, dict[str, Any]] = {}
    for contact in Contact.objects.select_related("account"):
        if attribute == "purchase":
            key = _purchase_bucket(won_by_account.get(contact.account_id) or Decimal(0))
        elif attribute == "tier":
            key = contact.account.tier if contact.account else _("(empty)")
        else:
            key = getattr(contact, attribute) or _("(empty)")
        group = groups.setdefault(str(key), {"segment": str(key), "contacts": 0, "lead_score": 0})
        group["contacts"] += 1
        group["lead_score"] += contact.lead_score
    for group in groups.values():
        group["lead_score"] = round(group["lead_score"] / group["contacts"], 1)
    return sorted(groups.values(), key=lambda g: g["segment"])
