"""Read-only REST endpoint of the mailboxes, for supervisors and admins (other staff
403, partners 404). No secret leaves: neither the encrypted passwords nor the names
of the variables holding them. Mailboxes are created with `manage.py add_mailbox`
or in the admin, where the passwords are handled."""

from __future__ import annotations

from rest_framework import serializers

from hub.api.base import SupervisorReadOnlyViewSet
from mail.models import Mailbox


class MailboxSerializer(serializers.ModelSerializer):
    inbox_key = serializers.CharField(source="inbox.key", read_only=True)

    class Meta:
        model = Mailbox
        fields = [
            "id",
            "inbox",
            "inbox_key",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_user",
            "folders",
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "smtp_user",
            "from_address",
            "is_active",
            "last_error",
            "last_synced_at",
            "created_at",
        ]
        read_only_fields = fields


class MailboxViewSet(SupervisorReadOnlyViewSet):
    serializer_class = MailboxSerializer
    queryset = Mailbox.objects.select_related("inbox").order_by("id")
