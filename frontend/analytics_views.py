"""Dashboards per role, the reports page with its exports, and the public survey page.

Thin views: the figures come from inbox.metrics, inbox.surveys, inbox.reports and
hub.sales_metrics. Partners get 404 on every analytics page.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from frontend.charts import bar_chart
from hub import sales_metrics
from hub.models import Role, Team, User
from inbox import metrics, reports, surveys
from inbox.models import Channel, Conversation, ConversationStatus


def _staff_only(request: HttpRequest) -> None:
    if not request.user.is_internal:
        raise Http404


def date_range(request: HttpRequest) -> tuple[datetime, datetime]:
    """[from, to] in whole days of the current time zone; `to` is inclusive."""
    try:
        first = parse_date(request.GET.get("from", ""))
        last = parse_date(request.GET.get("to", ""))
    except ValueError as error:  # well-formed but impossible, e.g. 2026-02-30
        raise ValidationError({"from": _("Not a valid date.")}) from error
    return reports.local_days(first, last)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    user: User = request.user  # type: ignore[assignment]
    try:
        start, end = date_range(request)
    except ValidationError:
        return HttpResponse(_("Not a valid date."), status=400, content_type="text/plain")
    context: dict[str, Any] = {"start": start.date(), "end": (end - timedelta(days=1)).date()}
    # The agent's own queue and SLA due times.
    context["queue"] = (
        Conversation.objects.filter(assignee=user)
        .exclude(status=ConversationStatus.RESOLVED)
        .select_related("contact", "team")
        .order_by("first_response_due_at", "resolution_due_at", "-id")[:50]
    )
    context["now"] = timezone.now()
    own = metrics.conversation_metrics(start, end, "all", agent_id=user.pk)
    context["own"] = own[0] if own else None
    if user.is_supervisor:
        context["teams"] = metrics.live_team_figures()
        context["team_metrics"] = metrics.conversation_metrics(start, end, "team")
        context["survey_scores"] = surveys.aggregate(
            surveys.Survey.objects.filter(answered_at__gte=start, answered_at__lt=end)
        )
    if user.role in (Role.SALES, Role.SUPERVISOR, Role.ADMIN):
        owner_id = user.pk if user.role == Role.SALES else None
        pipeline = sales_metrics.pipeline_by_stage(owner_id=owner_id)
        context["pipeline"] = pipeline
        context["pipeline_chart"] = bar_chart(
            [(p["label"], p["value"]) for p in pipeline], title=_("Pipeline value per stage")
        )
        context["close_rate"] = sales_metrics.close_rate(start, end, owner_id=owner_id)
        forecast = sales_metrics.forecast(start, end)
        context["forecast"] = forecast
        context["forecast_chart"] = bar_chart(
            list(forecast["weighted_by_month"].items()), title=_("Weighted open pipeline")
        )
    return render(request, "frontend/dashboard.html", context)


def _report_query(request: HttpRequest) -> reports.ReportQuery:
    start, end = date_range(request)
    metric = request.GET.get("metric") or "conversations"
    groupings = reports.METRICS.get(metric, (None, {"all": None}, None))[1]
    grouping = request.GET.get("grouping") or next(iter(groupings))

    def number(name: str) -> int | None:
        raw = request.GET.get(name) or ""
        if not raw:
            return None
        if not raw.isdigit():
            raise ValidationError({name: _("Not a number.")})
        return int(raw)

    return reports.ReportQuery(
        metric=metric,
        grouping=grouping,
        start=start,
        end=end,
        channel=request.GET.get("channel") or "",
        team_id=number("team"),
        agent_id=number("agent"),
    )


@login_required
def report(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    context: dict[str, Any] = {
        "metrics": [(key, spec[0], spec[1]) for key, spec in reports.METRICS.items()],
        "channels": Channel.choices,
        "teams": Team.objects.all(),
        "agents": User.objects.filter(is_active=True).exclude(role=Role.PARTNER),
        "params": request.GET,
    }
    status = 200
    try:
        query = _report_query(request)
        table = reports.build_report(query)
    except ValidationError as error:
        context["errors"] = [m for messages in error.message_dict.values() for m in messages]
        status = 400
    else:
        context |= {"query": query, "table": table, "export_query": request.GET.urlencode()}
        numeric = [i for i, v in enumerate(table.rows[0] if table.rows else []) if i and _is_num(v)]
        if numeric:
            column = numeric[-1]
            context["chart"] = bar_chart(
                [(str(row[0]), row[column] or 0) for row in table.rows],
                title=table.headers[column],
                value_format="{:,.1f}",
            )
    context["start"] = request.GET.get("from", "")
    context["end"] = request.GET.get("to", "")
    return render(request, "frontend/reports.html", context, status=status)


def _is_num(value: Any) -> bool:
    return isinstance(value, int | float) or type(value).__name__ == "Decimal"


@login_required
def report_export(request: HttpRequest, format: str) -> HttpResponse:
    _staff_only(request)
    try:
        table = reports.build_report(_report_query(request))
    except ValidationError as error:
        return HttpResponse(
            "; ".join(m for ms in error.message_dict.values() for m in ms),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    stamp = timezone.localdate().isoformat()
    if format == "csv":
        response = HttpResponse(reports.table_csv(table), content_type="text/csv; charset=utf-8")
    elif format == "xlsx":
        response = HttpResponse(
            reports.table_xlsx(table),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="report-{stamp}.{format}"'
    return response


@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's public answer page; the token is the only key (no login)."""
    survey = surveys.survey_by_token(token)
    if survey is None:
        raise Http404
    context: dict[str, Any] = {
        "survey": survey,
        "csat_scale": range(1, 6),
        "ces_scale": range(1, 8),
        "nps_scale": range(0, 11),
        "values": request.POST,
    }
    if survey.answered_at is not None:
        return render(request, "frontend/survey.html", context | {"done": True})
    if request.method == "POST":
        try:
            surveys.do_answer_survey(
                survey, request.POST.dict(), comment=request.POST.get("comment", "")
            )
        except ValidationError as error:
            context["errors"] = error.message_dict
            return render(request, "frontend/survey.html", context, status=400)
        return render(request, "frontend/survey.html", context | {"done": True})
    return render(request, "frontend/survey.html", context)
