"""REST endpoints for routing rules: supervisors and admins only (partners get 404,
other staff 403). Thin over inbox.routing's do_save/do_delete."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from hub.permissions import IsSupervisor
from inbox.api.views import domain_call
from inbox.models import RoutingRule
from inbox.models.routing import validate_actions, validate_conditions
from inbox.routing import do_delete_routing_rule, do_save_routing_rule


class RoutingRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = RoutingRule
        fields = [
            "id",
            "name",
            "position",
            "is_active",
            "stop_processing",
            "conditions",
            "actions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_conditions(self, value: Any) -> Any:
        return domain_call(lambda: validate_conditions(value) or value)

    def validate_actions(self, value: Any) -> Any:
        return domain_call(lambda: validate_actions(value) or value)


class RoutingRuleViewSet(viewsets.ModelViewSet):
    serializer_class = RoutingRuleSerializer
    permission_classes = [IsSupervisor]
    queryset = RoutingRule.objects.order_by("position", "id")

    def permission_denied(self, request: Request, message: Any = None, code: Any = None) -> None:
        user = request.user
        if user and user.is_authenticated and not user.is_internal:
            raise exceptions.NotFound()
        super().permission_denied(request, message=message, code=code)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        rule = RoutingRule(**serializer.validated_data)
        serializer.instance = domain_call(lambda: do_save_routing_rule(rule, by=self.request.user))

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        rule = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(rule, name, value)
        domain_call(lambda: do_save_routing_rule(rule, by=self.request.user))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rule = self.get_object()
        do_delete_routing_rule(rule, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
