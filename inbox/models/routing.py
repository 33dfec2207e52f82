"""Routing rules and per-team assignment settings (inbox.routing, inbox.assignment).

Conditions and actions are JSON objects with a fixed, validated vocabulary so that
supervisors can edit them in the admin and over the API without a migration per
new rule; `RoutingRule.clean()` rejects anything outside it with a clear message.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from hub.models import PartnerOrganization, Team, User
from hub.models.crm import AccountTier
from inbox.models.conversations import Channel, Inbox, Priority

# name → (kind of value, what it means in the admin's help text)
CONDITION_KINDS: dict[str, str] = {
    "channel": "list of channels (email, phone, sms, chat, slack)",
    "inbox": "list of inbox keys",
    "words": "list of words; any of them in the subject or body (whole words)",
    "sales_intent": "true: the message uses a sales-intent word (any language)",
    "tier": "list of account tiers (standard, silver, gold, platinum)",
    "language": "list of language codes of the contact or account (en, nb, de…)",
    "country": "list of ISO country codes of the contact or account",
    "tags": "list of tag names; any on the contact or account",
    "lead_score_at_least": "whole number: the contact's lead score is at least this",
    "deal_value_at_least": "number: the account's largest open deal is at least this",
    "within_business_hours": "true or false: the team is (not) within business hours",
}
ACTION_KINDS: dict[str, str] = {
    "team": "team slug to route to",
    "share_with": "partner organization slug: route to / share with that partner",
    "assign": "e-mail of the staff member to assign",
    "priority": "low, normal, high or urgent",
    "add_tags": "list of tag names to put on the conversation",
    "create_task": 'task title, or {"title": …, "assignee": "account_owner" or an e-mail}',
    "notify_slack": "Slack channel id to notify",
}


def _string_list(value: Any, name: str) -> list[str]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, str) and item.strip() for item in value)
    ):
        raise ValidationError(f"{name}: give a non-empty list of texts.")
    return [item.strip() for item in value]


def validate_conditions(conditions: Any) -> None:
    if not isinstance(conditions, dict):
        raise ValidationError("Conditions must be an object of condition → value.")
    errors: list[str] = []
    for name, value in conditions.items():
        try:
            _validate_condition(name, value)
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(errors)


def _validate_condition(name: str, value: Any) -> None:
    if name not in CONDITION_KINDS:
        known = ", ".join(CONDITION_KINDS)
        raise ValidationError(f"Unknown condition {name!r}; known conditions: {known}.")
    if name in ("sales_intent", "within_business_hours"):
        if not isinstance(value, bool):
            raise ValidationError(f"{name}: give true or false.")
        return
    if name == "lead_score_at_least":
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValidationError(f"{name}: give a whole number.")
        return
    if name == "deal_value_at_least":
        try:
            Decimal(str(value))
        except InvalidOperation:
            raise ValidationError(f"{name}: give a number.") from None
        if isinstance(value, bool) or Decimal(str(value)) < 0:
            raise ValidationError(f"{name}: give a number of at least 0.")
        return
    items = _string_list(value, name)
    allowed: list[str] | None = None
    if name == "channel":
        allowed = list(Channel.values)
    elif name == "tier":
        allowed = list(AccountTier.values)
    if allowed is not None:
        wrong = [item for item in items if item not in allowed]
        if wrong:
            raise ValidationError(f"{name}: {', '.join(wrong)} not one of {', '.join(allowed)}.")
    if name == "inbox":
        known = set(Inbox.objects.filter(key__in=items).values_list("key", flat=True))
        missing = [item for item in items if item not in known]
        if missing:
            raise ValidationError(f"inbox: no inbox with key {', '.join(missing)}.")


def validate_actions(actions: Any) -> None:
    if not isinstance(actions, dict) or not actions:
        raise ValidationError("Actions must be a non-empty object of action → value.")
    errors: list[str] = []
    for name, value in actions.items():
        try:
            _validate_action(name, value)
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(errors)


def _validate_action(name: str, value: Any) -> None:
    if name not in ACTION_KINDS:
        known = ", ".join(ACTION_KINDS)
        raise ValidationError(f"Unknown action {name!r}; known actions: {known}.")
    if name == "add_tags":
        _string_list(value, name)
        return
    if name == "create_task":
        if isinstance(value, str) and value.strip():
            return
        if not isinstance(value, dict) or not str(value.get("title", "")).strip():
            raise ValidationError('create_task: give a title or {"title": …}.')
        extra = set(value) - {"title", "assignee"}
        if extra:
            raise ValidationError(f"create_task: unknown keys {', '.join(sorted(extra))}.")
        assignee = value.get("assignee")
        if assignee not in (None, "account_owner") and not _staff(assignee):
            raise ValidationError(f"create_task: no active staff member {assignee!r}.")
        return
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{name}: give a text.")
    if name == "team" and not Team.objects.filter(slug=value).exists():
        raise ValidationError(f"team: no team with slug {value!r}.")
    if (
        name == "share_with"
        and not PartnerOrganization.objects.filter(slug=value, is_active=True).exists()
    ):
        raise ValidationError(f"share_with: no active partner organization {value!r}.")
    if name == "assign" and not _staff(value):
        raise ValidationError(f"assign: no active staff member {value!r} (partners never).")
    if name == "priority" and value not in Priority.values:
        raise ValidationError(f"priority: {value!r} not one of {', '.join(Priority.values)}.")


def _staff(email: Any) -> bool:
    return (
        isinstance(email, str)
        and User.objects.filter(email__iexact=email, is_active=True)
        .exclude(role="partner")
        .exists()
    )


class RoutingRule(models.Model):
    """One supervisor-edited rule; rules run in `position` order (then id)."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=100, db_index=True)
    is_active = models.BooleanField(_("active"), default=True)
    stop_processing = models.BooleanField(
        _("stop processing"),
        default=False,
        help_text=_("When this rule matches, later rules are not evaluated."),
    )
    conditions = models.JSONField(
        _("conditions"),
        default=dict,
        blank=True,
        help_text=_("All must hold; an empty object matches everything. Known: ")
        + "; ".join(f"{name}: {text}" for name, text in CONDITION_KINDS.items()),
    )
    actions = models.JSONField(
        _("actions"),
        default=dict,
        help_text=_("Known: ")
        + "; ".join(f"{name}: {text}" for name, text in ACTION_KINDS.items()),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        for field, validate in (("conditions", validate_conditions), ("actions", validate_actions)):
            try:
                validate(getattr(self, field))
            except ValidationError as error:
                errors[field] = error.messages
        if errors:
            raise ValidationError(errors)


class AssignmentStrategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")


class TeamAssignment(models.Model):
    """How a team's new conversations find an agent. Teams without a row (or with
    auto-assign off) leave conversations in the team queue for agents to pick."""

    team = models.OneToOneField(
        Team, on_delete=models.CASCADE, related_name="assignment", primary_key=True
    )
    strategy = models.CharField(
        _("strategy"),
        max_length=20,
        choices=AssignmentStrategy.choices,
        default=AssignmentStrategy.ROUND_ROBIN,
    )
    auto_assign = models.BooleanField(_("assign automatically"), default=True)
    # Round robin's pointer: the next pick is the first eligible agent after this one.
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("team assignment")
        verbose_name_plural = _("team assignment")

    def __str__(self) -> str:
        return f"{self.team}: {self.get_strategy_display()}"
