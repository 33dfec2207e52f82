"""Reports: one metric, one grouping, filters and a date range, as a table that the
reports page shows and exports to CSV or XLSX (openpyxl).

Each metric names the groupings it supports; the rows come from the metric functions
in inbox.metrics, inbox.surveys and hub.sales_metrics, so the page, the dashboards and
the exports show the same figures.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from hub import sales_metrics
from hub.models import Role, Team, User
from inbox import metrics, surveys
from inbox.models import Channel, Survey


@dataclass(frozen=True)
class ReportQuery:
    metric: str
    grouping: str
    start: datetime
    end: datetime
    channel: str = ""
    team_id: int | None = None
    agent_id: int | None = None


@dataclass(frozen=True)
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]]


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _conversations(q: ReportQuery) -> Table:
    rows = metrics.conversation_metrics(
        q.start,
        q.end,
        q.grouping,
        channel=q.channel,
        team_id=q.team_id,
        agent_id=q.agent_id,
    )
    return Table(
        _("Conversations"),
        [
            _("Group"),
            _("Conversations"),
            _("First response, average minutes"),
            _("Resolved"),
            _("Resolution, average hours"),
            _("Resolved at first contact"),
            _("First-contact resolution %"),
        ],
        [
            [
                f.label,
                f.conversations,
                _minutes(f.first_response_avg),
                f.resolved,
                _hours(f.resolution_avg),
                f.first_contact_resolved,
                _rounded(f.fcr_rate),
            ]
            for f in rows
        ],
    )


def _survey_groups(q: ReportQuery) -> list[tuple[str, QuerySet[Survey]]]:
    answered = Survey.objects.filter(answered_at__gte=q.start, answered_at__lt=q.end)
    if q.channel:
        answered = answered.filter(channel=q.channel)
    if q.team_id:
        answered = answered.filter(team_id=q.team_id)
    if q.agent_id:
        answered = answered.filter(agent_id=q.agent_id)
    if q.grouping == "channel":
        keys = sorted(set(answered.values_list("channel", flat=True)))
        return [(str(Channel(k).label), answered.filter(channel=k)) for k in keys]
    if q.grouping == "team":
        teams = Team.objects.filter(pk__in=answered.values("team_id"))
        groups = [(t.name, answered.filter(team=t)) for t in teams]
        if answered.filter(team__isnull=True).exists():
            groups.append((_("No team"), answered.filter(team__isnull=True)))
        return groups
    if q.grouping == "agent":
        agents = User.objects.filter(pk__in=answered.values("agent_id")).order_by("full_name")
        groups = [(a.full_name, answered.filter(agent=a)) for a in agents]
        if answered.filter(agent__isnull=True).exists():
            groups.append((_("Unassigned"), answered.filter(agent__isnull=True)))
        return groups
    return [(_("All"), answered)]


def _surveys(q: ReportQuery) -> Table:
    rows = []
    for label, group in _survey_groups(q):
        scores = surveys.aggregate(group)
        rows.append(
            [
                label,
                scores.answered,
                _rounded(scores.csat_percent),
                scores.ces_average,
                _rounded(scores.nps),
            ]
        )
    return Table(
        _("Surveys"),
        [_("Group"), _("Answers"), _("Satisfied (CSAT %)"), _("CES average"), _("NPS")],
        rows,
    )


def _close_rate(q: ReportQuery) -> Table:
    if q.grouping == "owner":
        owners = User.objects.filter(role__in=(Role.SALES, Role.SUPERVISOR, Role.ADMIN))
        pairs = [
            (o.full_name, sales_metrics.close_rate(q.start, q.end, owner_id=o.pk)) for o in owners
        ]
    else:
        pairs = [(_("All"), sales_metrics.close_rate(q.start, q.end))]
    return Table(
        _("Close rate"),
        [_("Group"), _("Won"), _("Lost"), _("Close rate %")],
        [[label, r.won, r.lost, _rounded(r.rate)] for label, r in pairs],
    )


def _pipeline(q: ReportQuery) -> Table:
    return Table(
        _("Pipeline value per stage"),
        [_("Stage"), _("Deals"), _("Value")],
        [[s["label"], s["deals"], s["value"]] for s in sales_metrics.pipeline_by_stage()],
    )


def _sales_cycle(q: ReportQuery) -> Table:
    cycle = sales_metrics.sales_cycle_per_stage(q.start, q.end)
    rows: list[list[Any]] = [
        [str(sales_metrics.DealStage(stage).label), _rounded(days, 2)]
        for stage, days in cycle["per_stage"].items()
    ]
    rows.append([_("Created to won"), _rounded(cycle["won_cycle"], 2)])
    return Table(_("Sales cycle length"), [_("Stage"), _("Average days")], rows)


def _forecast(q: ReportQuery) -> Table:
    result = sales_metrics.forecast(q.start, q.end)
    months = sorted(set(result["weighted_by_month"]) | set(result["won_by_month"]))
    return Table(
        _("Forecast"),
        [_("Month"), _("Weighted open pipeline"), _("Won")],
        [
            [
                month,
                result["weighted_by_month"].get(month, Decimal(0)),
                result["won_by_month"].get(month, Decimal(0)),
            ]
            for month in months
        ],
    )


def _churn(q: ReportQuery) -> Table:
    result = sales_metrics.churn(q.start, q.end)
    return Table(
        _("Churn"),
        [_("Customers at start"), _("Accounts lost"), _("Churn rate %")],
        [[result.customers_at_start, len(result.churned), _rounded(result.rate)]],
    )


def _segments(q: ReportQuery) -> Table:
    return Table(
        _("Segments"),
        [_("Segment"), _("Accounts"), _("Contacts"), _("Customers"), _("Won value")],
        [
            [g["segment"], g["accounts"], g["contacts"], g["customers"], g["won"]]
            for g in sales_metrics.segments(q.grouping)
        ],
    )


def _contact_segments(q: ReportQuery) -> Table:
    return Table(
        _("Contact segments"),
        [_("Segment"), _("Contacts"), _("Average lead score")],
        [
            [g["segment"], g["contacts"], g["lead_score"]]
            for g in sales_metrics.contact_segments(q.grouping)
        ],
    )


def _attribution(q: ReportQuery) -> Table:
    result = metrics.attribution(q.start, q.end, q.grouping)
    labels = dict(Channel.choices) | {"none": _("No interaction")}
    return Table(
        _("Attribution of won deals"),
        [_("Channel"), _("Attributed value")],
        [[str(labels.get(k, k)), v] for k, v in result.by_channel.items()],
    )


CONVERSATION_GROUPINGS = {
    "all": gettext_lazy("All"),
    "channel": gettext_lazy("Channel"),
    "team": gettext_lazy("Team"),
    "agent": gettext_lazy("Agent"),
}
METRICS: dict[str, tuple[Any, dict[str, Any], Callable[[ReportQuery], Table]]] = {
    "conversations": (gettext_lazy("Conversations"), CONVERSATION_GROUPINGS, _conversations),
    "surveys": (gettext_lazy("Surveys (CSAT, CES, NPS)"), CONVERSATION_GROUPINGS, _surveys),
    "close_rate": (
        gettext_lazy("Close rate"),
        {"all": gettext_lazy("All"), "owner": gettext_lazy("Owner")},
        _close_rate,
    ),
    "pipeline": (
        gettext_lazy("Pipeline value per stage"),
        {"stage": gettext_lazy("Stage")},
        _pipeline,
    ),
    "sales_cycle": (
        gettext_lazy("Sales cycle length"),
        {"stage": gettext_lazy("Stage")},
        _sales_cycle,
    ),
    "forecast": (gettext_lazy("Forecast"), {"month": gettext_lazy("Month")}, _forecast),
    "churn": (gettext_lazy("Churn"), {"all": gettext_lazy("All")}, _churn),
    "segments": (
        gettext_lazy("Segments"),
        {
            "tier": gettext_lazy("Tier"),
            "industry": gettext_lazy("Industry"),
            "country": gettext_lazy("Country"),
            "purchase": gettext_lazy("Purchase history"),
        },
        _segments,
    ),
    "contact_segments": (
        gettext_lazy("Contact segments"),
        {
            "country": gettext_lazy("Country"),
            "language": gettext_lazy("Language"),
            "tier": gettext_lazy("Tier"),
            "purchase": gettext_lazy("Purchase history"),
        },
        _contact_segments,
    ),
    "attribution": (
        gettext_lazy("Attribution"),
        {
            "last": gettext_lazy("Last touch"),
            "first": gettext_lazy("First touch"),
            "multi": gettext_lazy("Multi-touch"),
        },
        _attribution,
    ),
}


def check_query(q: ReportQuery) -> None:
    if q.metric not in METRICS:
        raise ValidationError({"metric": _("Unknown metric.")})
    if q.grouping not in METRICS[q.metric][1]:
        raise ValidationError({"grouping": _("This metric cannot be grouped that way.")})
    if q.start >= q.end:
        raise ValidationError({"end": _("The end must be after the start.")})
    if q.channel and q.channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})


DEFAULT_RANGE_DAYS = 30


def local_days(first: date | None, last: date | None) -> tuple[datetime, datetime]:
    """Whole days of the current time zone from `first` to `last` inclusive, as
    [start, end) instants; by default the last DEFAULT_RANGE_DAYS days up to today.
    The reports page, its exports and the metrics API read ranges through this."""
    today = timezone.localdate()
    first = first or today - timedelta(days=DEFAULT_RANGE_DAYS)
    last = last or today
    return _day_start(first), _day_start(last + timedelta(days=1))


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def build_report(q: ReportQuery) -> Table:
    check_query(q)
    return METRICS[q.metric][2](q)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        # A team or account name must never run as a spreadsheet formula.
        return "'" + value
    return value


def table_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def table_xlsx(table: Table) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.title[:31]
    sheet.append(table.headers)
    for row in table.rows:
        sheet.append([_cell(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
