from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework import serializers

from hub import actions
from hub.models import Account, Contact, ContactEmail, ContactPhone, Deal, Tag, Task, User


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "full_name", "email", "role"]
        read_only_fields = fields


class ContactPhoneSerializer(serializers.ModelSerializer):
    e164 = serializers.CharField(read_only=True)

    class Meta:
        model = ContactPhone
        fields = ["e164", "raw", "label"]


class ContactEmailSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactEmail
        fields = ["address", "label"]


class AccountSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "name", "tier", "country"]
        read_only_fields = fields


class ContactSerializer(serializers.ModelSerializer):
    phones = ContactPhoneSerializer(many=True, required=False)
    emails = ContactEmailSerializer(many=True, required=False)
    account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.all(), allow_null=True, required=False
    )
    account_name = serializers.CharField(source="account.name", read_only=True, default=None)
    tags = serializers.SlugRelatedField(
        slug_field="name", many=True, queryset=Tag.objects.all(), required=False
    )

    class Meta:
        model = Contact
        fields = [
            "id",
            "name",
            "account",
            "account_name",
            "job_title",
            "country",
            "language",
            "lead_score",
            "owner",
            "tags",
            "phones",
            "emails",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["lead_score", "created_at", "updated_at"]

    def create(self, validated_data: dict[str, Any]) -> Contact:
        phones = validated_data.pop("phones", [])
        emails = validated_data.pop("emails", [])
        tags = validated_data.pop("tags", [])
        by = self.context["request"].user
        try:
            with transaction.atomic():
                contact = actions.do_create_contact(
                    validated_data.pop("name"),
                    phones=[actions.PhoneInput(p["raw"], p.get("label", "work")) for p in phones],
                    emails=[
                        actions.EmailInput(e["address"], e.get("label", "work")) for e in emails
                    ],
                    by=by,
                    **validated_data,
                )
                contact.tags.set(tags)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from error
        return contact

    def update(self, instance: Contact, validated_data: dict[str, Any]) -> Contact:
        if "phones" in validated_data or "emails" in validated_data:
            raise serializers.ValidationError(
                {"phones": "Change numbers and addresses one at a time, not by replacing the list."}
            )
        tags = validated_data.pop("tags", None)
        try:
            with transaction.atomic():
                actions.do_update_contact(
                    instance, by=self.context["request"].user, **validated_data
                )
                if tags is not None:
                    instance.tags.set(tags)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from error
        return instance


class AccountSerializer(serializers.ModelSerializer):
    tags = serializers.SlugRelatedField(
        slug_field="name", many=True, queryset=Tag.objects.all(), required=False
    )
    contact_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "domain",
            "industry",
            "country",
            "language",
            "tier",
            "employees",
            "owner",
            "tags",
            "contact_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class DealSerializer(serializers.ModelSerializer):
    class Meta:
        model = Deal
        fields = [
            "id",
            "title",
            "account",
            "contact",
            "stage",
            "value",
            "currency",
            "owner",
            "expected_close",
            "closed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["closed_at", "created_at", "updated_at"]


class TaskSerializer(serializers.ModelSerializer):
    class Meta:
        model = Task
        fields = [
            "id",
            "title",
            "description",
            "status",
            "assignee",
            "team",
            "due_at",
            "account",
            "contact",
            "deal",
            "created_by",
            "created_at",
            "completed_at",
        ]
        read_only_fields = ["created_by", "created_at", "completed_at"]
