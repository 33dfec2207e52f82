from __future__ import annotations

from django.contrib import admin

from slack_bridge.models import (
    MirrorThread,
    SlackChannel,
    SlackEvent,
    SlackPost,
    SlackUserLink,
    SlackWorkspace,
)


class SlackChannelInline(admin.TabularInline):
    model = SlackChannel
    extra = 0
    fields = ["channel_id", "name", "kind", "inbox", "team", "partner_organization", "is_active"]


@admin.register(SlackWorkspace)
class SlackWorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "team_id", "bot_user_id", "is_active"]
    inlines = [SlackChannelInline]


@admin.register(SlackChannel)
class SlackChannelAdmin(admin.ModelAdmin):
    list_display = ["__str__", "workspace", "kind", "inbox", "team", "is_active"]
    list_filter = ["kind", "is_active"]


@admin.register(SlackUserLink)
class SlackUserLinkAdmin(admin.ModelAdmin):
    list_display = ["slack_user_id", "display_name", "email", "user", "workspace"]
    search_fields = ["slack_user_id", "email", "display_name"]


@admin.register(SlackEvent)
class SlackEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "event_type", "team_id", "state", "attempts", "received_at"]
    list_filter = ["state", "event_type"]
    readonly_fields = [field.name for field in SlackEvent._meta.fields]


@admin.register(SlackPost)
class SlackPostAdmin(admin.ModelAdmin):
    list_display = ["kind", "channel_id", "state", "attempts", "last_error", "created_at"]
    list_filter = ["state", "kind"]
    readonly_fields = [field.name for field in SlackPost._meta.fields]


@admin.register(MirrorThread)
class MirrorThreadAdmin(admin.ModelAdmin):
    list_display = ["conversation", "channel", "thread_ts", "created_at"]
