from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "CRM core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the token scheme with drf-spectacular.
        from hub.api import schema  # noqa: F401
        from hub.config_cache import watch
        from hub.models import LeadScoring, Team

        watch(LeadScoring)
        # Cached inboxes carry their default team (telephony.actions.find_inbox).
        watch(Team)
