"""Read-only analytics over the API: the survey answers with their CSAT/CES/NPS
aggregate, and one endpoint per report metric (`/api/v1/metrics/<metric>/`) taking
the reports page's grouping, filters and date range. Staff only, partners 404.

The figures come from inbox.reports.build_report, so the API, the reports page and
its CSV/XLSX exports can never disagree."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.api.base import InternalOnlyMixin, validation_as_400
from inbox import reports, surveys
from inbox.models import Channel, Survey


class RangeSerializer(serializers.Serializer):
    """Whole local days, `to` inclusive, as on the reports page."""

    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    team = serializers.IntegerField(min_value=1, required=False)
    agent = serializers.IntegerField(min_value=1, required=False)

    def to_internal_value(self, data: Any) -> Any:
        # `from` is a Python keyword: the query string's names are mapped here.
        renamed = {
            {"from": "date_from", "to": "date_to"}.get(key, key): value
            for key, value in data.items()
        }
        return super().to_internal_value(renamed)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["start"], attrs["end"] = reports.local_days(
            attrs.get("date_from"), attrs.get("date_to")
        )
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"to": "The end must not be before the start."})
        return attrs


def _query_dict(request: Request) -> dict[str, str]:
    return {key: value for key, value in request.query_params.items() if value != ""}


RANGE_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="first day (default: 30 days ago)"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="last day, inclusive (default: today)"),
    OpenApiParameter("channel", str, enum=Channel.values),
    OpenApiParameter("team", int, description="team id"),
    OpenApiParameter("agent", int, description="user id of the assigned agent"),
]


class SurveySerializer(serializers.ModelSerializer):
    class Meta:
        model = Survey
        # Never the token: it is the customer's key to the answer page.
        fields = [
            "id",
            "conversation",
            "channel",
            "team",
            "agent",
            "sent_at",
            "answered_at",
            "csat",
            "ces",
            "nps",
            "comment",
        ]
        read_only_fields = fields


class SurveyScoresSerializer(serializers.Serializer):
    answered = serializers.IntegerField()
    csat_percent = serializers.FloatField(allow_null=True)
    ces_average = serializers.FloatField(allow_null=True)
    nps = serializers.FloatField(allow_null=True)


class SurveyViewSet(
    InternalOnlyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Surveys sent after resolution and their answers. The list takes the range over
    the sending time; `aggregate` over the answer time, as the reports do."""

    serializer_class = SurveySerializer

    def _filtered(self, time_field: str) -> QuerySet[Survey]:
        form = RangeSerializer(data=_query_dict(self.request))
        form.is_valid(raise_exception=True)
        data = form.validated_data
        rows = Survey.objects.filter(
            **{f"{time_field}__gte": data["start"], f"{time_field}__lt": data["end"]}
        )
        if data.get("channel"):
            rows = rows.filter(channel=data["channel"])
        if data.get("team"):
            rows = rows.filter(team_id=data["team"])
        if data.get("agent"):
            rows = rows.filter(agent_id=data["agent"])
        if self.request.query_params.get("answered") in ("0", "1"):
            rows = rows.filter(answered_at__isnull=self.request.query_params["answered"] == "0")
        return rows.order_by("-sent_at", "-id")

    def get_queryset(self) -> QuerySet[Survey]:
        if self.action == "list":
            return self._filtered("sent_at")
        return Survey.objects.order_by("-sent_at", "-id")

    @extend_schema(
        parameters=[
            *RANGE_PARAMETERS,
            OpenApiParameter("answered", str, enum=["0", "1"], description="answered or not"),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=RANGE_PARAMETERS, responses=SurveyScoresSerializer)
    @action(detail=False, methods=["get"], pagination_class=None)
    def aggregate(self, request: Request) -> Response:
        """CSAT (% of 4-5 answers), CES (average) and NPS of the answers in the range."""
        return Response(asdict(surveys.aggregate(self._filtered("answered_at"))))


MetricTableSerializer = inline_serializer(
    "MetricTable",
    {
        "metric": serializers.CharField(),
        "grouping": serializers.CharField(),
        "title": serializers.CharField(),
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "headers": serializers.ListField(child=serializers.CharField()),
        "rows": serializers.ListField(child=serializers.ListField()),
    },
)


class MetricView(InternalOnlyMixin, APIView):
    metric = ""

    def answer(self, request: Request) -> Response:
        groupings = reports.METRICS[self.metric][1]
        form = RangeSerializer(data=_query_dict(request))
        form.is_valid(raise_exception=True)
        data = form.validated_data
        grouping = request.query_params.get("grouping") or next(iter(groupings))
        query = reports.ReportQuery(
            metric=self.metric,
            grouping=grouping,
            start=data["start"],
            end=data["end"],
            channel=data.get("channel", ""),
            team_id=data.get("team"),
            agent_id=data.get("agent"),
        )
        table = validation_as_400(lambda: reports.build_report(query))
        return Response(
            {
                "metric": self.metric,
                "grouping": grouping,
                "title": table.title,
                "from": data["start"].date(),
                "to": (data["end"] - timedelta(days=1)).date(),
                "headers": table.headers,
                "rows": table.rows,
            }
        )


def metric_view(metric: str) -> type[MetricView]:
    """The view of one metric, documented with its own groupings."""
    label, groupings, _ = reports.METRICS[metric]

    @extend_schema(
        operation_id=f"metrics_{metric}",
        summary=label,
        parameters=[
            OpenApiParameter(
                "grouping",
                str,
                enum=list(groupings),
                description=f"default: {next(iter(groupings))}",
            ),
            *RANGE_PARAMETERS,
        ],
        responses=MetricTableSerializer,
    )
    def get(self: MetricView, request: Request) -> Response:
        return self.answer(request)

    name = "".join(part.title() for part in metric.split("_")) + "MetricView"
    return type(name, (MetricView,), {"metric": metric, "get": get})


class MetricIndexView(InternalOnlyMixin, APIView):
    @extend_schema(
        responses=inline_serializer(
            "MetricIndex",
            {
                "metric": serializers.CharField(),
                "label": serializers.CharField(),
                "groupings": serializers.ListField(child=serializers.CharField()),
                "url": serializers.CharField(),
            },
            many=True,
        ),
        summary="The metrics and their groupings",
    )
    def get(self, request: Request) -> Response:
        return Response(
            [
                {
                    "metric": metric,
                    "label": str(label),
                    "groupings": list(groupings),
                    "url": f"/api/v1/metrics/{metric}/",
                }
                for metric, (label, groupings, _) in reports.METRICS.items()
            ]
        )
