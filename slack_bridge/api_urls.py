from rest_framework.routers import DefaultRouter

from slack_bridge.api import SlackChannelViewSet, SlackWorkspaceViewSet

router = DefaultRouter()
router.register("slack-workspaces", SlackWorkspaceViewSet, basename="slack-workspace")
router.register("slack-channels", SlackChannelViewSet, basename="slack-channel")
