"""REST endpoints of the unified inbox: thin adapters over inbox.actions, with the
same permission rules as the console socket (inbox.visibility)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.models import PartnerOrganization, User
from inbox import actions
from inbox.events import EVENT_LOG_LOCK_KEY, last_event_id
from inbox.models import Conversation, ConversationStatus
from inbox.presence import team_presence
from inbox.serializers import ConversationSerializer, MessageSerializer, NoteSerializer
from inbox.visibility import visible_conversations, visible_messages, visible_notes

T = TypeVar("T")


def domain_call(call: Callable[[], T]) -> T:
    """Run a domain action; its validation errors become 400s with field messages."""
    try:
        return call()
    except DjangoValidationError as error:
        detail = error.message_dict if hasattr(error, "error_dict") else error.messages
        raise serializers.ValidationError(detail) from error


class BodySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=actions.MAX_BODY_LENGTH, allow_blank=False)


class NoteInputSerializer(BodySerializer):
    partners = serializers.PrimaryKeyRelatedField(
        queryset=PartnerOrganization.objects.all(), many=True, required=False
    )


class AssignSerializer(serializers.Serializer):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), allow_null=True
    )


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ConversationStatus.choices)
    snooze_until = serializers.DateTimeField(required=False, allow_null=True)


class ShareSerializer(serializers.Serializer):
    partner = serializers.PrimaryKeyRelatedField(queryset=PartnerOrganization.objects.all())


class ConversationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = ConversationSerializer

    def get_queryset(self) -> QuerySet[Conversation]:
        queryset = visible_conversations(self.request.user)
        params = self.request.query_params
        for name in ("channel", "status", "inbox", "priority"):
            if params.get(name):
                queryset = queryset.filter(**{name: params[name]})
        if params.get("team"):
            queryset = (
                queryset.filter(team_id=params["team"])
                if params["team"].isdigit()
                else queryset.filter(team__slug=params["team"])
            )
        assignee = params.get("assignee")
        if assignee == "me":
            queryset = queryset.filter(assignee=self.request.user)
        elif assignee == "none":
            queryset = queryset.filter(assignee__isnull=True)
        elif assignee:
            queryset = queryset.filter(assignee_id=assignee if assignee.isdigit() else -1)
        if params.get("contact", "").isdigit():
            queryset = queryset.filter(contact_id=params["contact"])
        return queryset.order_by("-last_message_at", "-id")

    @extend_schema(
        parameters=[
            OpenApiParameter("channel", str, enum=["email", "phone", "sms", "chat", "slack"]),
            OpenApiParameter("status", str, enum=ConversationStatus.values),
            OpenApiParameter("team", str, description="team id or slug"),
            OpenApiParameter("assignee", str, description="user id, 'me' or 'none'"),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=BodySerializer,
        responses={200: MessageSerializer(many=True), 201: MessageSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def messages(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        conversation = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(
                visible_messages(request.user)
                .filter(conversation=conversation)
                .prefetch_related("attachments")
                .order_by("created_at", "id")
            )
            return self.get_paginated_response(MessageSerializer(page, many=True).data)
        data = _valid(BodySerializer, request)
        message = domain_call(lambda: actions.do_reply(conversation, data["body"], by=request.user))
        return Response(MessageSerializer(message).data, status=201)

    @extend_schema(
        request=NoteInputSerializer, responses={200: NoteSerializer(many=True), 201: NoteSerializer}
    )
    @action(detail=True, methods=["get", "post"])
    def notes(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        conversation = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(
                visible_notes(request.user)
                .filter(conversation=conversation)
                .order_by("created_at", "id")
            )
            return self.get_paginated_response(NoteSerializer(page, many=True).data)
        data = _valid(NoteInputSerializer, request)
        note = domain_call(
            lambda: actions.do_add_note(
                conversation, data["body"], by=request.user, share_with=data.get("partners")
            )
        )
        return Response(NoteSerializer(note).data, status=201)

    @extend_schema(request=AssignSerializer, responses=ConversationSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        conversation = self.get_object()
        data = _valid(AssignSerializer, request)
        updated = domain_call(
            lambda: actions.do_assign(conversation, data["assignee"], by=request.user)
        )
        return Response(self._fresh(updated))

    @extend_schema(request=StatusSerializer, responses=ConversationSerializer)
    @action(detail=True, methods=["post"])
    def status(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        conversation = self.get_object()
        data = _valid(StatusSerializer, request)
        updated = domain_call(
            lambda: actions.do_change_status(
                conversation, data["status"], by=request.user, snooze_until=data.get("snooze_until")
            )
        )
        return Response(self._fresh(updated))

    @extend_schema(request=ShareSerializer, responses=ConversationSerializer)
    @action(detail=True, methods=["post"])
    def share(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        conversation = self.get_object()
        data = _valid(ShareSerializer, request)
        updated = domain_call(
            lambda: actions.do_share(conversation, data["partner"], by=request.user)
        )
        return Response(self._fresh(updated))

    @extend_schema(request=ShareSerializer, responses=ConversationSerializer)
    @action(detail=True, methods=["post"])
    def unshare(self, request: Request, pk: str | None = None, **kwargs: Any) -> Response:
        conversation = self.get_object()
        data = _valid(ShareSerializer, request)
        updated = domain_call(
            lambda: actions.do_unshare(conversation, data["partner"], by=request.user)
        )
        return Response(self._fresh(updated))

    def _fresh(self, conversation: Conversation) -> dict[str, Any]:
        fresh = get_object_or_404(visible_conversations(self.request.user), pk=conversation.pk)
        return ConversationSerializer(fresh, context={"request": self.request}).data


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


CONSOLE_STATE_LIMIT = 200


class ConsoleStateView(APIView):
    """The console's first load: its state and the event id that state reflects, so
    the socket resumes from exactly there and nothing falls in between."""

    @extend_schema(
        responses=inline_serializer(
            "ConsoleState",
            {
                "event_id": serializers.IntegerField(),
                "conversations": ConversationSerializer(many=True),
                "presence": serializers.ListField(child=serializers.DictField()),
            },
        )
    )
    def get(self, request: Request) -> Response:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # Writers hold this lock from drawing an event id until commit: with it
                # held, every event up to the max id is committed and nothing newer is.
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EVENT_LOG_LOCK_KEY])
            event_id = last_event_id()
            conversations = (
                visible_conversations(request.user)
                .exclude(status=ConversationStatus.RESOLVED)
                .order_by("-last_message_at", "-id")[:CONSOLE_STATE_LIMIT]
            )
            data = ConversationSerializer(
                conversations, many=True, context={"request": request}
            ).data
            presence = team_presence(request.user)
        return Response({"event_id": event_id, "conversations": data, "presence": presence})
