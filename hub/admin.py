from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.forms import ReadOnlyPasswordHashField
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from hub import actions
from hub.models import (
    Account,
    ApiToken,
    AuditLogEntry,
    Contact,
    ContactEmail,
    ContactPhone,
    Deal,
    LeadScoring,
    PartnerOrganization,
    Tag,
    Task,
    Team,
    TeamMembership,
    User,
)
from hub.phones import parse_phone


class AuditedAdmin(admin.ModelAdmin):
    """Every change made through the admin lands in the audit log with its fields."""

    def save_model(
        self, request: HttpRequest, obj: Model, form: forms.ModelForm, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        changes = {name: str(form.cleaned_data.get(name)) for name in form.changed_data}
        verb = "updated" if change else "created"
        actions.record_audit(request.user, f"{obj._meta.model_name}.{verb}", obj, changes)

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        actions.record_audit(request.user, f"{obj._meta.model_name}.deleted", obj)
        super().delete_model(request, obj)


class UserCreationForm(forms.ModelForm):
    password = forms.CharField(widget=forms.PasswordInput, strip=False)

    class Meta:
        model = User
        fields = ["email", "full_name", "role", "partner_organization"]

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.set_password(self.cleaned_data["password"])
        if commit:
            user.save()
        return user


class UserChangeForm(forms.ModelForm):
    password = ReadOnlyPasswordHashField()

    class Meta:
        model = User
        fields = [
            "email",
            "full_name",
            "password",
            "role",
            "partner_organization",
            "is_active",
            "capacity",
            "language",
            "time_zone",
        ]


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    autocomplete_fields = ["team"]


@admin.register(User)
class UserAdmin(AuditedAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = ["email", "full_name", "role", "partner_organization", "is_active"]
    list_filter = ["role", "is_active", "partner_organization"]
    search_fields = ["email", "full_name"]
    ordering = ["email"]
    inlines = [TeamMembershipInline]
    readonly_fields = ["last_login", "date_joined"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, **kwargs: Any
    ) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [
                (
                    None,
                    {"fields": ["email", "full_name", "role", "partner_organization", "password"]},
                )
            ]
        return [
            (None, {"fields": ["email", "full_name", "password"]}),
            ("Role", {"fields": ["role", "partner_organization", "is_active", "capacity"]}),
            ("Preferences", {"fields": ["language", "time_zone"]}),
            ("Dates", {"fields": ["last_login", "date_joined"]}),
        ]


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ["name", "kind"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TeamMembershipInline]


@admin.register(PartnerOrganization)
class PartnerOrganizationAdmin(AuditedAdmin):
    list_display = ["name", "is_active", "created_at"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tag)
class TagAdmin(AuditedAdmin):
    search_fields = ["name"]


class ContactPhoneForm(forms.ModelForm):
    """The admin types a number as it is written; E.164 is derived, never typed."""

    class Meta:
        model = ContactPhone
        fields = ["raw", "label"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        raw = cleaned.get("raw")
        contact: Contact | None = (
            getattr(self.instance, "contact", None) if self.instance.contact_id else None
        )
        region = contact.phone_region if contact else None
        if raw:
            parsed = parse_phone(raw, region or settings.DEFAULT_PHONE_REGION)
            if parsed is None:
                raise ValidationError({"raw": f"{raw!r} is not a phone number"})
            self.instance.e164 = parsed.e164
            self.instance.extension = parsed.extension
        return cleaned


class ContactPhoneInline(admin.TabularInline):
    model = ContactPhone
    form = ContactPhoneForm
    extra = 1
    readonly_fields = ["e164", "extension"]
    fields = ["raw", "label", "e164", "extension"]


class ContactEmailInline(admin.TabularInline):
    model = ContactEmail
    extra = 1


@admin.register(Contact)
class ContactAdmin(AuditedAdmin):
    list_display = ["name", "account", "country", "lead_score"]
    list_filter = ["country", "tags"]
    search_fields = ["name", "emails__address", "phones__e164", "phones__raw"]
    autocomplete_fields = ["account", "owner"]
    filter_horizontal = ["tags"]
    inlines = [ContactPhoneInline, ContactEmailInline]
    # Kept by lead scoring (hub.scoring), not typed in.
    readonly_fields = ["lead_score", "interaction_count", "last_interaction_at"]


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["name", "job_title", "country"]
    show_change_link = True


@admin.register(Account)
class AccountAdmin(AuditedAdmin):
    list_display = ["name", "tier", "country", "industry", "owner"]
    list_filter = ["tier", "country", "industry"]
    search_fields = ["name", "domain"]
    autocomplete_fields = ["owner"]
    filter_horizontal = ["tags"]
    inlines = [ContactInline]


@admin.register(Deal)
class DealAdmin(AuditedAdmin):
    list_display = ["title", "account", "stage", "value", "currency", "owner", "expected_close"]
    list_filter = ["stage", "currency"]
    search_fields = ["title", "account__name"]
    autocomplete_fields = ["account", "contact", "owner"]
    readonly_fields = ["closed_at"]

    def save_model(
        self, request: HttpRequest, obj: Deal, form: forms.ModelForm, change: bool
    ) -> None:
        actions.do_save_deal(obj, by=request.user)


@admin.register(Task)
class TaskAdmin(AuditedAdmin):
    list_display = ["title", "status", "assignee", "team", "due_at"]
    list_filter = ["status", "team"]
    search_fields = ["title"]
    autocomplete_fields = ["assignee", "account", "contact", "deal"]
    readonly_fields = ["completed_at", "created_by"]

    def save_model(
        self, request: HttpRequest, obj: Task, form: forms.ModelForm, change: bool
    ) -> None:
        actions.do_save_task(obj, by=request.user)


@admin.register(LeadScoring)
class LeadScoringAdmin(AuditedAdmin):
    """Weights of lead scoring and the deal-value automation (hub.scoring). Saving
    does not rescore everyone: scores follow the next message or deal save."""

    list_display = ["name", "is_active", "call_task_threshold", "nurture_tag"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued with `manage.py create_api_token`; here they are listed and revoked."""

    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__email", "name", "prefix"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            actions.do_revoke_api_token(token, by=request.user)
            count += 1
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_repr", "actor__email", "object_id"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
