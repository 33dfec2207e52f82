from django.apps import AppConfig


class KbDocumentsConfig(AppConfig):
    name = "kb_documents"
    verbose_name = "Notes and documents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hub.health import register_check
        from hub.signals import demo_core_seeded
        from kb_documents.demo import seed_kb_demo
        from kb_documents.health import check_search
        from kb_documents.signals import connect_message_indexing

        register_check("search", check_search)
        connect_message_indexing()
        demo_core_seeded.connect(seed_kb_demo, dispatch_uid="kb_documents.demo")
