from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "mail"
    verbose_name = "E-mail"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from inbox.models import Channel
        from inbox.outbound import register_sender
        from mail.actions import queue_reply
        from mail.form_replies import queue_form_reply

        register_sender(Channel.EMAIL, queue_reply)
        register_sender(Channel.FORM, queue_form_reply)
