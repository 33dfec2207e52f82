from django.apps import AppConfig


class SlackBridgeConfig(AppConfig):
    name = "slack_bridge"
    verbose_name = "Slack"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from inbox.models import Channel
        from inbox.notifications import register_notifier
        from inbox.outbound import register_sender
        from slack_bridge.actions import queue_notification, queue_reply

        register_sender(Channel.SLACK, queue_reply)
        register_notifier("slack", queue_notification)
