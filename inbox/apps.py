from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Unified inbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hub.actions import register_deal_listener
        from hub.signals import demo_core_seeded
        from inbox.demo import seed_inbox_demo
        from inbox.webhooks import queue_deal_webhooks

        demo_core_seeded.connect(seed_inbox_demo, dispatch_uid="inbox.demo")
        register_deal_listener(queue_deal_webhooks)
