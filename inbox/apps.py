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

        # What every inbound message reads, cached per process (hub.config_cache).
        from hub.config_cache import watch
        from inbox.models import (
            BusinessHours,
            Holiday,
            Inbox,
            OpeningInterval,
            RoutingRule,
            SlaPolicy,
            TeamAssignment,
        )

        # Inbox: the telephony webhooks find the inbox of a number in the cache.
        for model in (RoutingRule, SlaPolicy, BusinessHours, OpeningInterval, Holiday, Inbox):
            watch(model)
        # Each assignment moves the round-robin pointer; only which teams assign
        # automatically is cached.
        watch(TeamAssignment, ignore_fields=frozenset({"last_assigned"}))
