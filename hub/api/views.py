from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from hub import actions
from hub.api.base import InternalOnlyMixin
from hub.api.serializers import (
    AccountSerializer,
    ContactSerializer,
    DealSerializer,
    TaskSerializer,
)
from hub.models import Account, Contact, Deal, Task
from hub.phones import parse_phone


class ContactViewSet(
    InternalOnlyMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ContactSerializer

    def get_queryset(self) -> QuerySet[Contact]:
        queryset = Contact.objects.select_related("account").prefetch_related(
            "phones", "emails", "tags"
        )
        params = self.request.query_params
        if params.get("q"):
            queryset = queryset.filter(name__icontains=params["q"])
        if params.get("account"):
            queryset = queryset.filter(account_id=params["account"])
        return queryset.order_by("name", "id")

    @extend_schema(
        parameters=[
            OpenApiParameter("phone", str, required=True, description="Any written form."),
            OpenApiParameter("region", str, description="ISO region for national numbers."),
        ],
        responses={200: ContactSerializer(many=True)},
    )
    @action(detail=False, methods=["get"])
    def lookup(self, request: Request) -> Response:
        """Caller-ID lookup: every contact with this number, however it was written."""
        raw = request.query_params.get("phone", "")
        region = request.query_params.get("region") or settings.DEFAULT_PHONE_REGION
        parsed = parse_phone(raw, region)
        if parsed is None:
            return Response({"e164": None, "count": 0, "results": []})
        contacts = actions.contacts_with_phone(parsed.e164).prefetch_related("tags")
        data = ContactSerializer(contacts, many=True, context={"request": request}).data
        return Response({"e164": parsed.e164, "count": len(data), "results": data})


class AccountViewSet(InternalOnlyMixin, viewsets.ModelViewSet):
    serializer_class = AccountSerializer

    def get_queryset(self) -> QuerySet[Account]:
        queryset = Account.objects.prefetch_related("tags").annotate(
            contact_count=Count("contacts")
        )
        if self.request.query_params.get("q"):
            queryset = queryset.filter(name__icontains=self.request.query_params["q"])
        return queryset.order_by("name", "id")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        account = serializer.save()
        actions.record_audit(self.request.user, "account.created", account)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        account = serializer.save()
        actions.record_audit(self.request.user, "account.updated", account, _changed(serializer))

    def perform_destroy(self, instance: Account) -> None:
        actions.record_audit(self.request.user, "account.deleted", instance)
        instance.delete()


class DealViewSet(InternalOnlyMixin, viewsets.ModelViewSet):
    serializer_class = DealSerializer

    def get_queryset(self) -> QuerySet[Deal]:
        queryset = Deal.objects.select_related("account", "owner")
        params = self.request.query_params
        if params.get("stage"):
            queryset = queryset.filter(stage=params["stage"])
        if params.get("owner"):
            queryset = queryset.filter(owner_id=params["owner"])
        if params.get("account"):
            queryset = queryset.filter(account_id=params["account"])
        return queryset.order_by("-created_at", "-id")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = actions.do_save_deal(
            Deal(**serializer.validated_data), by=self.request.user
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        deal = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(deal, name, value)
        actions.do_save_deal(deal, by=self.request.user)


class TaskViewSet(InternalOnlyMixin, viewsets.ModelViewSet):
    serializer_class = TaskSerializer

    def get_queryset(self) -> QuerySet[Task]:
        queryset = Task.objects.all()
        params = self.request.query_params
        if params.get("assignee") == "me":
            queryset = queryset.filter(assignee=self.request.user)
        elif params.get("assignee"):
            queryset = queryset.filter(assignee_id=params["assignee"])
        if params.get("status"):
            queryset = queryset.filter(status=params["status"])
        return queryset.order_by("due_at", "id")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = actions.do_save_task(
            Task(**serializer.validated_data), by=self.request.user
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        task = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(task, name, value)
        actions.do_save_task(task, by=self.request.user)


def _changed(serializer: serializers.BaseSerializer) -> dict[str, Any]:
    return {name: str(value) for name, value in serializer.validated_data.items()}
