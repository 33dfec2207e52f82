from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Unified inbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hub.signals import demo_core_seeded
        from inbox.demo import seed_inbox_demo

        demo_core_seeded.connect(seed_inbox_demo, dispatch_uid="inbox.demo")
