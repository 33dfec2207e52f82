from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class LeadScoring(models.Model):
    """The admin-edited lead scoring and deal automation settings (hub.scoring).

    The active row with the lowest id is used; with none, the defaults below apply.
    Each criterion contributes weight times a 0..1 measure; tag points are added as is.
    """

    name = models.CharField(_("name"), max_length=100, default="Default")
    is_active = models.BooleanField(_("active"), default=True)
    size_weight = models.PositiveSmallIntegerField(_("account size weight"), default=20)
    size_full_at = models.PositiveIntegerField(_("employees for full size points"), default=1000)
    interactions_weight = models.PositiveSmallIntegerField(_("interactions weight"), default=20)
    interactions_full_at = models.PositiveIntegerField(
        _("interactions for full points"), default=20
    )
    recency_weight = models.PositiveSmallIntegerField(_("recency weight"), default=20)
    recency_days = models.PositiveIntegerField(
        _("recency window (days)"),
        default=30,
        help_text=_("Full points for an interaction today, none after this many days."),
    )
    deal_value_weight = models.PositiveSmallIntegerField(_("deal value weight"), default=40)
    deal_value_full_at = models.DecimalField(
        _("open deal value for full points"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("50000"),
    )
    tag_points = models.JSONField(
        _("points per tag"),
        default=dict,
        blank=True,
        help_text=_('Tag name → points, e.g. {"vip": 20, "churn-risk": -10}.'),
    )
    call_task_threshold = models.DecimalField(
        _("deal value for a call task"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("10000"),
        help_text=_(
            "A saved open deal at or above this value gives the account owner a call task; "
            "below it the account goes onto the nurture list."
        ),
    )
    nurture_tag = models.CharField(_("nurture list tag"), max_length=50, default="nurture")

    class Meta:
        ordering = ["id"]
        verbose_name = _("lead scoring")
        verbose_name_plural = _("lead scoring")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not isinstance(self.tag_points, dict) or not all(
            isinstance(key, str) and isinstance(value, int) and not isinstance(value, bool)
            for key, value in (self.tag_points or {}).items()
        ):
            errors["tag_points"] = "Give an object of tag name → whole number of points."
        for field in ("size_full_at", "interactions_full_at", "recency_days"):
            if not getattr(self, field):
                errors[field] = "Must be at least 1."
        if not self.deal_value_full_at or self.deal_value_full_at <= 0:
            errors["deal_value_full_at"] = "Must be above 0."
        if not self.nurture_tag.strip():
            errors["nurture_tag"] = "Name the tag of the nurture list."
        if errors:
            raise ValidationError(errors)
