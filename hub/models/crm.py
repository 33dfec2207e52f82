from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    color = models.CharField(
        _("color"),
        max_length=7,
        default="#64748b",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("A colour like #64748b."))],
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class AccountTier(models.TextChoices):
    STANDARD = "standard", _("Standard")
    SILVER = "silver", _("Silver")
    GOLD = "gold", _("Gold")
    PLATINUM = "platinum", _("Platinum")


class Account(models.Model):
    """A company we deal with; contacts belong to it."""

    name = models.CharField(_("name"), max_length=200)
    domain = models.CharField(_("web domain"), max_length=200, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("ISO 3166 code"))
    language = models.CharField(_("language"), max_length=10, blank=True)
    tier = models.CharField(
        _("tier"), max_length=20, choices=AccountTier.choices, default=AccountTier.STANDARD
    )
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_accounts",
        verbose_name=_("owner"),
        limit_choices_to=~Q(role="partner"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="accounts")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["name"])]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A person; optionally works for an account. Their interactions hang off them."""

    name = models.CharField(_("name"), max_length=200)
    account = models.ForeignKey(
        Account,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
        verbose_name=_("account"),
    )
    job_title = models.CharField(_("job title"), max_length=150, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("ISO 3166 code"))
    language = models.CharField(_("language"), max_length=10, blank=True)
    lead_score = models.IntegerField(_("lead score"), default=0)
    # Kept by inbox on every inbound message (hub cannot read inbox's tables) and read
    # by lead scoring (hub.scoring).
    interaction_count = models.PositiveIntegerField(_("interactions"), default=0)
    last_interaction_at = models.DateTimeField(_("last interaction"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_contacts",
        verbose_name=_("owner"),
        limit_choices_to=~Q(role="partner"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["name"])]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.name

    @property
    def phone_region(self) -> str:
        """The region that national numbers of this contact are written in."""
        if self.country:
            return self.country
        if self.account_id and self.account.country:
            return self.account.country
        return settings.DEFAULT_PHONE_REGION


class ContactPhone(models.Model):
    """A number as the user typed it, and its E.164 form that caller-ID looks up."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    raw = models.CharField(_("number as entered"), max_length=64)
    e164 = models.CharField(_("E.164"), max_length=20, db_index=True)
    extension = models.CharField(_("extension"), max_length=16, blank=True)
    label = models.CharField(_("label"), max_length=30, default="work")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "e164"], name="contact_phone_unique_e164"),
        ]
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")

    def __str__(self) -> str:
        return self.raw


class ContactEmail(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    address = models.EmailField(_("address"), db_index=True)
    label = models.CharField(_("label"), max_length=30, default="work")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "address"], name="contact_email_unique"),
        ]
        verbose_name = _("e-mail address")
        verbose_name_plural = _("e-mail addresses")

    def __str__(self) -> str:
        return self.address


class DealStage(models.TextChoices):
    PROSPECTING = "prospecting", _("Prospecting")
    PROPOSAL = "proposal", _("Proposal")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Deal(models.Model):
    title = models.CharField(_("title"), max_length=200)
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="deals", verbose_name=_("account")
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
        verbose_name=_("contact"),
    )
    stage = models.CharField(
        _("stage"), max_length=20, choices=DealStage.choices, default=DealStage.PROSPECTING
    )
    value = models.DecimalField(
        _("value"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
        verbose_name=_("owner"),
        limit_choices_to=~Q(role="partner"),
    )
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="deals")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["stage"])]
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="deal_value_not_negative"),
        ]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")

    def __str__(self) -> str:
        return self.title


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Task(models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("assignee"),
        limit_choices_to=~Q(role="partner"),
    )
    team = models.ForeignKey(
        "hub.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("team"),
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    deal = models.ForeignKey(
        Deal, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_tasks",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["assignee", "status"])]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")

    def __str__(self) -> str:
        return self.title


class DealStageChange(models.Model):
    """One move of a deal into a stage (analytics: sales cycle length per stage).
    Written by hub.actions.do_save_deal; the creation of a deal is a move from None."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(_("from stage"), max_length=20, blank=True)
    to_stage = models.CharField(_("to stage"), max_length=20, choices=DealStage.choices)
    changed_at = models.DateTimeField(_("changed at"), db_index=True)

    class Meta:
        ordering = ["changed_at", "id"]
        verbose_name = _("deal stage change")
        verbose_name_plural = _("deal stage changes")

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage or '-'} → {self.to_stage}"
