from __future__ import annotations

from django.conf import settings
from django.contrib import admin

from hub.admin import AuditedAdmin
from telephony.models import AgentLine, Call, CtiIntegration, SmsOutbox


@admin.register(CtiIntegration)
class CtiIntegrationAdmin(AuditedAdmin):
    list_display = ["name", "inbox", "is_active", "created_at"]
    fields = ["name", "inbox", "is_active", "token", "endpoint"]
    readonly_fields = ["endpoint"]

    @admin.display(description="PBX posts events to")
    def endpoint(self, obj: CtiIntegration) -> str:
        if not obj.pk:
            return "(save first)"
        return f"{settings.PUBLIC_BASE_URL}/telephony/cti/{obj.token}/"


@admin.register(AgentLine)
class AgentLineAdmin(AuditedAdmin):
    list_display = ["user", "client_identity", "forward_number"]


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ["sid", "source", "from_number", "to_number", "status", "outcome", "created_at"]
    list_filter = ["status", "outcome", "source"]
    search_fields = ["sid", "customer_e164"]
    readonly_fields = [field.name for field in Call._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(SmsOutbox)
class SmsOutboxAdmin(admin.ModelAdmin):
    list_display = ["message", "status", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status"]
