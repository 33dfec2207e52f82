"""Staff endpoints of the screen pop: save an unknown caller as a contact, or pick
which contact of a shared number is calling."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.api.base import InternalOnlyMixin
from hub.models import Account, Contact
from telephony import actions
from telephony.models import Call, CallStatus
from telephony.screen_pop import screen_pop_for


class CallContactSerializer(serializers.Serializer):
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True
    )
    name = serializers.CharField(max_length=200, required=False, allow_blank=False)
    email = serializers.EmailField(required=False, allow_blank=True)
    account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.all(), required=False, allow_null=True
    )

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("contact") and not attrs.get("name"):
            raise serializers.ValidationError("Give an existing 'contact' or a 'name'.")
        return attrs


def _call(pk: int) -> Call:
    return get_object_or_404(Call.objects.select_related("contact", "conversation"), pk=pk)


class CallView(InternalOnlyMixin, APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="The call's screen pop")
    def get(self, request: Request, pk: int) -> Response:
        return Response(screen_pop_for(_call(pk)))


class CallContactView(InternalOnlyMixin, APIView):
    """POST {"name", "email"?, "account"?} creates the caller as a contact with the
    call's number; POST {"contact": id} links an existing one."""

    @extend_schema(
        request=CallContactSerializer,
        responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT},
        summary="Save the caller as a contact, or pick one of the candidates",
    )
    def post(self, request: Request, pk: int) -> Response:
        call = _call(pk)
        form = CallContactSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            if data.get("contact"):
                actions.do_pick_contact_for_call(call, data["contact"], by=request.user)
                status = 200
            else:
                actions.do_create_contact_for_call(
                    call,
                    name=data["name"],
                    email=data.get("email", ""),
                    account=data.get("account"),
                    by=request.user,
                )
                status = 201
        except DjangoValidationError as error:
            detail = error.message_dict if hasattr(error, "error_dict") else error.messages
            raise serializers.ValidationError(detail) from error
        return Response(screen_pop_for(_call(pk)), status=status)


class ClickToCallSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=64, required=False, allow_blank=True)


class ClickToCallView(InternalOnlyMixin, APIView):
    """POST {"phone"?}: Twilio rings the agent, then bridges the contact (their first
    number unless one is given)."""

    @extend_schema(
        request=ClickToCallSerializer,
        responses={201: OpenApiTypes.OBJECT},
        summary="Call this contact (Twilio calls the agent, then bridges the customer)",
    )
    def post(self, request: Request, pk: int) -> Response:
        contact = get_object_or_404(Contact.objects.prefetch_related("phones"), pk=pk)
        form = ClickToCallSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            call = actions.do_click_to_call(
                contact, by=request.user, phone=form.validated_data.get("phone", "")
            )
        except DjangoValidationError as error:
            detail = error.message_dict if hasattr(error, "error_dict") else error.messages
            raise serializers.ValidationError(detail) from error
        return Response(screen_pop_for(_call(call.pk)), status=201)


class CallSerializer(serializers.ModelSerializer):
    class Meta:
        model = Call
        fields = [
            "id",
            "sid",
            "source",
            "direction",
            "status",
            "from_number",
            "to_number",
            "customer_e164",
            "inbox",
            "conversation",
            "contact",
            "team",
            "answered_by",
            "outcome",
            "duration",
            "recording_url",
            "transcription",
            "created_at",
            "dequeued_at",
            "answered_at",
            "ended_at",
        ]
        read_only_fields = fields


class CallListView(InternalOnlyMixin, ListAPIView):
    """The call log, newest first; filter with ?status=, ?direction=, ?contact=,
    ?conversation=, ?answered_by=. Calls are written by the telephony webhooks only."""

    serializer_class = CallSerializer

    def get_queryset(self) -> QuerySet[Call]:
        calls = Call.objects.order_by("-created_at", "-id")
        params = self.request.query_params
        for name in ("status", "direction"):
            if params.get(name):
                calls = calls.filter(**{name: params[name]})
        for name in ("contact", "conversation", "answered_by"):
            if params.get(name, "").isdigit():
                calls = calls.filter(**{f"{name}_id": int(params[name])})
        return calls

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=CallStatus.values),
            OpenApiParameter("direction", str, enum=["inbound", "outbound"]),
            OpenApiParameter("contact", int),
            OpenApiParameter("conversation", int),
            OpenApiParameter("answered_by", int),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
