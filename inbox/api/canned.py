"""REST endpoint for canned responses: every member of staff reads them, supervisors
and admins change them (other staff 403); partners get 404."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request

from hub.api.base import InternalOnlyMixin
from hub.permissions import is_supervisor
from inbox.api.views import domain_call
from inbox.canned import do_delete_canned_response, do_save_canned_response
from inbox.models import CannedResponse


class CannedResponseSerializer(serializers.ModelSerializer):
    class Meta:
        model = CannedResponse
        fields = ["id", "shortcut", "title", "body", "is_active", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Uniqueness and the shortcut's form are checked by the domain function.
        extra_kwargs = {"shortcut": {"validators": []}}


class CannedResponseViewSet(InternalOnlyMixin, viewsets.ModelViewSet):
    serializer_class = CannedResponseSerializer

    def get_queryset(self) -> Any:
        queryset = CannedResponse.objects.order_by("shortcut", "id")
        if self.request.query_params.get("active") == "1":
            queryset = queryset.filter(is_active=True)
        return queryset

    def check_permissions(self, request: Request) -> None:
        super().check_permissions(request)
        if request.method not in ("GET", "HEAD", "OPTIONS") and not is_supervisor(request.user):
            raise PermissionDenied()

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        response = CannedResponse(**serializer.validated_data)
        serializer.instance = domain_call(
            lambda: do_save_canned_response(response, by=self.request.user)
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        response = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(response, name, value)
        domain_call(lambda: do_save_canned_response(response, by=self.request.user))

    def perform_destroy(self, instance: CannedResponse) -> None:
        do_delete_canned_response(instance, by=self.request.user)
