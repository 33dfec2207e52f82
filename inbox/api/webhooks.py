"""REST endpoints for outgoing webhooks: administrators only (partners get 404,
other staff 403). Thin over inbox.webhooks."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from inbox.api.views import domain_call
from inbox.models import WebhookDelivery, WebhookSubscription
from inbox.webhooks import check_event_types, do_delete_subscription, do_save_subscription


class IsAdministrator(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_superuser)


class AdminOnlyMixin:
    permission_classes = [IsAdministrator]

    def permission_denied(self, request: Request, message: Any = None, code: Any = None) -> None:
        user = request.user
        if user and user.is_authenticated and not user.is_internal:
            raise exceptions.NotFound()
        super().permission_denied(request, message=message, code=code)  # type: ignore[misc]


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(child=serializers.CharField(max_length=50))
    secret = serializers.CharField(max_length=200, required=False)

    class Meta:
        model = WebhookSubscription
        fields = ["id", "name", "url", "secret", "event_types", "is_active", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_event_types(self, value: Any) -> Any:
        return domain_call(lambda: check_event_types(value))


class WebhookSubscriptionViewSet(AdminOnlyMixin, viewsets.ModelViewSet):
    serializer_class = WebhookSubscriptionSerializer
    queryset = WebhookSubscription.objects.order_by("id")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        subscription = WebhookSubscription(**serializer.validated_data)
        serializer.instance = domain_call(
            lambda: do_save_subscription(subscription, by=self.request.user)
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        subscription = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(subscription, name, value)
        serializer.instance = domain_call(
            lambda: do_save_subscription(subscription, by=self.request.user)
        )

    def perform_destroy(self, instance: WebhookSubscription) -> None:
        do_delete_subscription(instance, by=self.request.user)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "subscription",
            "source_key",
            "event_type",
            "payload",
            "state",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields


class WebhookDeliveryViewSet(
    AdminOnlyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The delivery log; filter with ?subscription=<id>&state=<state>."""

    serializer_class = WebhookDeliverySerializer

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        rows = WebhookDelivery.objects.order_by("-id")
        params = self.request.query_params
        if params.get("subscription", "").isdigit():
            rows = rows.filter(subscription_id=int(params["subscription"]))
        if params.get("state"):
            rows = rows.filter(state=params["state"])
        return rows
