"""Conversation and agent metrics, and attribution of won deals to interactions.

Exact definitions (docs/architecture.md, "Analytics, surveys and reports"):

- Population: conversations *created* in the half-open range [start, end).
- First response time: first_response_at - created_at (wall-clock seconds) of the
  conversations that have an agent reply; averaged.
- Resolution time: resolved_at - created_at of the conversations resolved now; averaged.
- Agent reply: an outbound message written by a user (author set). Survey messages
  and other automatic messages have no author and are not replies.
- First-contact resolution (FCR): a resolved conversation with exactly one agent reply
  and no inbound (customer) message after that reply; a customer writing again (which
  reopens a resolved conversation) therefore spoils it. FCR rate = FCR / resolved.
- Groupings: channel, team, agent (the assignee), or none ("all").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.models import Contact, Deal, DealStage, Team
from inbox.events import record_event
from inbox.models import Channel, Conversation, ConversationStatus, Direction, Message

GROUPINGS = ("all", "channel", "team", "agent")


@dataclass
class ConversationFigures:
    key: Any
    label: str
    conversations: int = 0
    responded: int = 0
    first_response_total: float = 0.0
    resolved: int = 0
    resolution_total: float = 0.0
    first_contact_resolved: int = 0

    @property
    def first_response_avg(self) -> float | None:
        return self.first_response_total / self.responded if self.responded else None

    @property
    def resolution_avg(self) -> float | None:
        return self.resolution_total / self.resolved if self.resolved else None

    @property
    def fcr_rate(self) -> float | None:
        """Percent of resolved conversations resolved at first contact."""
        return 100.0 * self.first_contact_resolved / self.resolved if self.resolved else None


def conversations_in_range(
    start: datetime,
    end: datetime,
    *,
    channel: str = "",
    team_id: int | None = None,
    agent_id: int | None = None,
) -> QuerySet[Conversation]:
    conversations = Conversation.objects.filter(created_at__gte=start, created_at__lt=end)
    if channel:
        conversations = conversations.filter(channel=channel)
    if team_id:
        conversations = conversations.filter(team_id=team_id)
    if agent_id:
        conversations = conversations.filter(assignee_id=agent_id)
    return conversations


def _group_of(row: dict[str, Any], grouping: str) -> tuple[Any, str]:
    if grouping == "channel":
        return row["channel"], str(Channel(row["channel"]).label)
    if grouping == "team":
        return row["team_id"], row["team__name"] or _("No team")
    if grouping == "agent":
        return row["assignee_id"], row["assignee__full_name"] or _("Unassigned")
    return None, _("All")


def conversation_metrics(
    start: datetime, end: datetime, grouping: str = "all", **filters: Any
) -> list[ConversationFigures]:
    if grouping not in GROUPINGS:
        raise ValueError(f"unknown grouping {grouping!r}")
    agent_reply = Q(messages__direction=Direction.OUTBOUND, messages__author__isnull=False)
    rows = (
        conversations_in_range(start, end, **filters)
        .annotate(
            agent_replies=Count("messages", filter=agent_reply),
            first_reply_at=Min("messages__created_at", filter=agent_reply),
            last_inbound_at=Max(
                "messages__created_at", filter=Q(messages__direction=Direction.INBOUND)
            ),
        )
        .values(
            "channel",
            "team_id",
            "team__name",
            "assignee_id",
            "assignee__full_name",
            "status",
            "created_at",
            "first_response_at",
            "resolved_at",
            "agent_replies",
            "first_reply_at",
            "last_inbound_at",
        )
    )
    groups: dict[Any, ConversationFigures] = {}
    for row in rows:
        key, label = _group_of(row, grouping)
        figures = groups.setdefault(key, ConversationFigures(key, label))
        figures.conversations += 1
        if row["first_response_at"] is not None:
            figures.responded += 1
            figures.first_response_total += (
                row["first_response_at"] - row["created_at"]
            ).total_seconds()
        if row["status"] == ConversationStatus.RESOLVED and row["resolved_at"] is not None:
            figures.resolved += 1
            figures.resolution_total += (row["resolved_at"] - row["created_at"]).total_seconds()
            if row["agent_replies"] == 1 and (
                row["last_inbound_at"] is None or row["last_inbound_at"] <= row["first_reply_at"]
            ):
                figures.first_contact_resolved += 1
    return sorted(groups.values(), key=lambda f: f.label)


# --- Attribution --------------------------------------------------------------------

ATTRIBUTION_MODELS = ("first", "last", "multi")


@dataclass
class Attribution:
    model: str
    deals: int = 0
    by_channel: dict[str, Decimal] = field(default_factory=dict)


def touches_before(deal: Deal) -> list[str]:
    """The channels of the customer's inbound messages before the deal closed, oldest
    first: the deal's contact, or every contact of its account."""
    contacts = Contact.objects.none()
    if deal.contact_id:
        contacts = Contact.objects.filter(pk=deal.contact_id)
    elif deal.account_id:
        contacts = Contact.objects.filter(account_id=deal.account_id)
    return list(
        Message.objects.filter(
            conversation__contact__in=contacts,
            direction=Direction.INBOUND,
            created_at__lte=deal.closed_at,
        )
        .order_by("created_at", "id")
        .values_list("conversation__channel", flat=True)
    )


def attribution(
    start: datetime,
    end: datetime,
    model: str = "last",
    weights: dict[str, float] | None = None,
) -> Attribution:
    """Credit the value of deals won in [start, end) to channels.

    first/last: the whole value to the channel of the first/last touch. multi: each
    touch gets a share proportional to its channel's weight (the argument, else
    settings.ATTRIBUTION_CHANNEL_WEIGHTS; unlisted channels weigh 1, 0 ignores one). Deals without touches are credited to "none".
    """
    if model not in ATTRIBUTION_MODELS:
        raise ValueError(f"unknown attribution model {model!r}")
    if weights is None:
        weights = getattr(settings, "ATTRIBUTION_CHANNEL_WEIGHTS", None) or {}
    result = Attribution(model)
    credit: dict[str, Decimal] = defaultdict(Decimal)
    deals = Deal.objects.filter(stage=DealStage.WON, closed_at__gte=start, closed_at__lt=end)
    for deal in deals:
        result.deals += 1
        value = deal.value or Decimal(0)
        touches = touches_before(deal)
        if model == "multi":
            shares = [(channel, Decimal(str(weights.get(channel, 1)))) for channel in touches]
            shares = [(channel, weight) for channel, weight in shares if weight > 0]
            total = sum((w for _c, w in shares), Decimal(0))
            if total > 0:
                for channel, weight in shares:
                    credit[channel] += value * weight / total
                continue
            touches = []
        if not touches:
            credit["none"] += value
        else:
            credit[touches[0] if model == "first" else touches[-1]] += value
    result.by_channel = {k: v.quantize(Decimal("0.01")) for k, v in sorted(credit.items())}
    return result


# --- Live team figures (supervisor dashboard) ----------------------------------------


def live_team_figures(now: datetime | None = None) -> list[dict[str, Any]]:
    """Right-now figures per team: open, unassigned, SLA breached among open, resolved
    since midnight (local time)."""
    now = now or timezone.now()
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(now), datetime.min.time()))
    active = ~Q(conversations__status=ConversationStatus.RESOLVED)
    rows = Team.objects.annotate(
        open_n=Count("conversations", filter=active),
        unassigned_n=Count(
            "conversations", filter=active & Q(conversations__assignee__isnull=True)
        ),
        breached_n=Count(
            "conversations", filter=active & Q(conversations__sla_breached_at__isnull=False)
        ),
        resolved_today_n=Count(
            "conversations",
            filter=Q(
                conversations__status=ConversationStatus.RESOLVED,
                conversations__resolved_at__gte=midnight,
            ),
        ),
    ).order_by("name")
    return [
        {
            "team": team.pk,
            "name": team.name,
            "open": team.open_n,
            "unassigned": team.unassigned_n,
            "breached": team.breached_n,
            "resolved_today": team.resolved_today_n,
        }
        for team in rows
    ]


def publish_team_figures(figures: list[dict[str, Any]] | None = None) -> int:
    """Record one figures.updated event per team (audience: the team's consoles, which
    include its supervisors'); the supervisor dashboard updates from them. Called
    periodically by `manage.py analytics_figures`."""
    figures = live_team_figures() if figures is None else figures
    with transaction.atomic():
        for team in figures:
            record_event(
                "figures.updated", {"team": team["team"], "figures": team}, [f"team.{team['team']}"]
            )
    return len(figures)
