from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from hub.actions import record_audit
from hub.admin import AuditedAdmin
from mail.models import Mailbox, OutboxItem
from mail.secrets import encrypt_password

SECRET_FIELDS = ("imap_password", "smtp_password")


class MailboxForm(forms.ModelForm):
    imap_password = forms.CharField(
        widget=forms.PasswordInput,
        required=False,
        strip=False,
        help_text="Stored encrypted. Leave empty to keep the current one (or use the variable).",
    )
    smtp_password = forms.CharField(widget=forms.PasswordInput, required=False, strip=False)

    class Meta:
        model = Mailbox
        fields = [
            "inbox",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_user",
            "imap_password_env",
            "folders",
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "smtp_user",
            "smtp_password_env",
            "from_address",
            "is_active",
        ]

    def clean(self) -> dict:
        data = super().clean()
        has_stored = bool(self.instance.pk and self.instance.imap_password_encrypted)
        if not (data.get("imap_password") or data.get("imap_password_env") or has_stored):
            self.add_error("imap_password", "Give a password or the variable that holds it.")
        return data


@admin.register(Mailbox)
class MailboxAdmin(AuditedAdmin):
    form = MailboxForm
    list_display = [
        "imap_user",
        "imap_host",
        "inbox",
        "from_address",
        "is_active",
        "last_synced_at",
        "last_error",
    ]
    list_filter = ["is_active"]
    readonly_fields = ["lease_owner", "lease_expires_at", "last_synced_at", "last_error"]

    def save_model(
        self, request: HttpRequest, obj: Mailbox, form: forms.ModelForm, change: bool
    ) -> None:
        for name in SECRET_FIELDS:
            value = form.cleaned_data.get(name)
            if value:
                setattr(obj, f"{name}_encrypted", encrypt_password(value))
        obj.save()
        # Never put a password in the audit log, not even encrypted.
        changes = {
            name: str(form.cleaned_data.get(name))
            for name in form.changed_data
            if name not in SECRET_FIELDS
        }
        changes.update({name: "(changed)" for name in SECRET_FIELDS if form.cleaned_data.get(name)})
        record_audit(request.user, f"mailbox.{'updated' if change else 'created'}", obj, changes)


@admin.register(OutboxItem)
class OutboxItemAdmin(admin.ModelAdmin):
    list_display = ["mail_message_id", "to_address", "state", "attempts", "sent_at", "last_error"]
    list_filter = ["state"]
    readonly_fields = [f.name for f in OutboxItem._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
