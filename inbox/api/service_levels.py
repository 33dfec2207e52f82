"""REST endpoints of SLA policies and business hours: every member of staff reads
them (the console shows due times), supervisors and admins change them (other staff
403, partners 404). Opening intervals and holidays are nested in their business
hours and written with them."""

from __future__ import annotations

from rest_framework import serializers, viewsets

from hub.api.base import RecordViewSetMixin, RoleGatedMixin, validation_as_400
from hub.permissions import is_supervisor
from inbox.configuration import do_save_business_hours
from inbox.models import BusinessHours, Holiday, OpeningInterval, SlaPolicy


class SlaPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "priority",
            "first_response_minutes",
            "next_response_minutes",
            "resolution_minutes",
            "warning_minutes",
        ]
        read_only_fields = ["id"]


class SlaPolicyViewSet(RoleGatedMixin, RecordViewSetMixin, viewsets.ModelViewSet):
    serializer_class = SlaPolicySerializer
    queryset = SlaPolicy.objects.order_by("id")
    may_write = staticmethod(is_supervisor)


class OpeningIntervalSerializer(serializers.ModelSerializer):
    class Meta:
        model = OpeningInterval
        fields = ["weekday", "opens", "closes"]


class HolidaySerializer(serializers.ModelSerializer):
    class Meta:
        model = Holiday
        fields = ["date", "name", "every_year"]


class BusinessHoursSerializer(serializers.ModelSerializer):
    intervals = OpeningIntervalSerializer(many=True, required=False)
    holidays = HolidaySerializer(many=True, required=False)

    class Meta:
        model = BusinessHours
        fields = ["id", "team", "time_zone", "intervals", "holidays"]
        read_only_fields = ["id"]


class BusinessHoursViewSet(RoleGatedMixin, RecordViewSetMixin, viewsets.ModelViewSet):
    """A team's opening hours; PUT/PATCH with `intervals` or `holidays` replaces them."""

    serializer_class = BusinessHoursSerializer
    queryset = BusinessHours.objects.prefetch_related("intervals", "holidays").order_by("id")
    may_write = staticmethod(is_supervisor)

    def _save(self, serializer: serializers.BaseSerializer, hours: BusinessHours) -> None:
        data = dict(serializer.validated_data)
        intervals = data.pop("intervals", None)
        holidays = data.pop("holidays", None)
        for name, value in data.items():
            setattr(hours, name, value)
        saved = validation_as_400(
            lambda: do_save_business_hours(hours, intervals, holidays, by=self.request.user)
        )
        serializer.instance = self.get_queryset().get(pk=saved.pk)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        self._save(serializer, BusinessHours())

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        self._save(serializer, serializer.instance)
