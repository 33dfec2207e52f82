from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "telephony"
    verbose_name = "Phone and SMS"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hub.signals import demo_core_seeded
        from inbox.models import Channel
        from inbox.outbound import register_sender
        from telephony.actions import queue_sms
        from telephony.demo import seed_telephony_demo

        register_sender(Channel.SMS, queue_sms)
        demo_core_seeded.connect(seed_telephony_demo, dispatch_uid="telephony.demo")
