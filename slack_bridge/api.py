"""Read-only REST endpoints of the Slack configuration, for supervisors and admins
(other staff 403, partners 404): workspaces (never the bot token or signing secret,
nor the names of the variables holding them) and the channel mappings."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from hub.api.base import SupervisorReadOnlyViewSet
from slack_bridge.models import SlackChannel, SlackWorkspace


class SlackWorkspaceSerializer(serializers.ModelSerializer):
    class Meta:
        model = SlackWorkspace
        fields = ["id", "team_id", "name", "bot_user_id", "is_active", "created_at"]
        read_only_fields = fields


class SlackChannelSerializer(serializers.ModelSerializer):
    class Meta:
        model = SlackChannel
        fields = [
            "id",
            "workspace",
            "channel_id",
            "name",
            "kind",
            "inbox",
            "team",
            "partner_organization",
            "is_active",
            "created_at",
        ]
        read_only_fields = fields


class SlackWorkspaceViewSet(SupervisorReadOnlyViewSet):
    serializer_class = SlackWorkspaceSerializer
    queryset = SlackWorkspace.objects.order_by("name", "id")


class SlackChannelViewSet(SupervisorReadOnlyViewSet):
    """Channel mappings; ?workspace=<id> narrows them."""

    serializer_class = SlackChannelSerializer

    def get_queryset(self) -> Any:
        channels = SlackChannel.objects.order_by("workspace_id", "name", "id")
        workspace = self.request.query_params.get("workspace", "")
        if workspace.isdigit():
            channels = channels.filter(workspace_id=int(workspace))
        return channels
