from __future__ import annotations

from django.contrib import admin

from hub.admin import AuditedAdmin
from inbox.models import (
    BusinessHours,
    CannedResponse,
    Conversation,
    ConversationNote,
    ConversationShare,
    Event,
    Holiday,
    Inbox,
    Message,
    OpeningInterval,
    RoutingRule,
    SlaPolicy,
    TeamAssignment,
)


@admin.register(Inbox)
class InboxAdmin(AuditedAdmin):
    list_display = ["name", "key", "channel", "address", "default_team", "is_active"]
    list_filter = ["channel", "is_active"]
    search_fields = ["name", "key", "address"]


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ["direction", "sender_name", "body_text", "status", "created_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True


class ShareInline(admin.TabularInline):
    model = ConversationShare
    extra = 0
    readonly_fields = ["shared_by", "shared_at"]


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    """Read-mostly: changes go through the console so that they emit their events."""

    list_display = [
        "id",
        "subject",
        "channel",
        "status",
        "team",
        "assignee",
        "contact",
        "last_message_at",
    ]
    list_filter = ["channel", "status", "team", "priority"]
    search_fields = ["subject", "contact__name"]
    readonly_fields = [
        "inbox",
        "channel",
        "contact",
        "status",
        "team",
        "assignee",
        "thread_key",
        "created_at",
        "updated_at",
        "last_message_at",
        "first_response_at",
        "resolved_at",
        "routing_trace",
    ]
    fields = ["subject", "priority", *readonly_fields]
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "conversation", "direction", "status", "external_id", "created_at"]
    list_filter = ["direction", "status", "inbox"]
    search_fields = ["external_id", "body_text", "sender_address"]
    readonly_fields = [field.name for field in Message._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(ConversationNote)
class ConversationNoteAdmin(admin.ModelAdmin):
    list_display = ["id", "conversation", "author", "created_at"]
    readonly_fields = ["conversation", "author", "created_at"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "audience", "created_at"]
    list_filter = ["type"]
    readonly_fields = ["type", "data", "audience", "conversation_id", "created_at"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(RoutingRule)
class RoutingRuleAdmin(AuditedAdmin):
    """Supervisors edit rules here; RoutingRule.clean() explains a bad condition or
    action next to its field."""

    list_display = ["position", "name", "is_active", "stop_processing", "updated_at"]
    list_display_links = ["name"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    ordering = ["position", "id"]


@admin.register(TeamAssignment)
class TeamAssignmentAdmin(AuditedAdmin):
    list_display = ["team", "strategy", "auto_assign", "last_assigned"]
    readonly_fields = ["last_assigned"]


class OpeningIntervalInline(admin.TabularInline):
    model = OpeningInterval
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(BusinessHours)
class BusinessHoursAdmin(AuditedAdmin):
    list_display = ["team", "time_zone"]
    inlines = [OpeningIntervalInline, HolidayInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(AuditedAdmin):
    list_display = [
        "priority",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "warning_minutes",
    ]


@admin.register(CannedResponse)
class CannedResponseAdmin(AuditedAdmin):
    """Replies agents insert with /shortcut; placeholders are filled in the console."""

    list_display = ["shortcut", "title", "is_active", "updated_at"]
    list_editable = ["is_active"]
    list_filter = ["is_active"]
    search_fields = ["shortcut", "title", "body"]
