from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    SUPERVISOR = "supervisor", _("Supervisor")
    AGENT = "agent", _("Support agent")
    SALES = "sales", _("Salesperson")
    PARTNER = "partner", _("Partner")


# Apps whose models a supervisor may manage in the admin. User deletion and the
# framework's own tables stay with administrators.
SUPERVISED_APPS = frozenset(
    {"hub", "inbox", "telephony", "mail", "kb_documents", "channels_app", "slack_bridge"}
)
ADMIN_ONLY_PERMISSIONS = frozenset({"hub.delete_user", "hub.delete_auditlogentry"})


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("A user needs an e-mail address")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields["role"] = Role.ADMIN
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> User:
        # E-mail addresses are stored lower-case; sign-in is case-insensitive.
        return self.get(email__iexact=username or "")


class User(AbstractBaseUser):
    """Anyone who signs in: staff of the company (by role) or users of a partner."""

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    partner_organization = models.ForeignKey(
        "hub.PartnerOrganization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("partner organization"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    language = models.CharField(_("language"), max_length=10, default="en")
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    capacity = models.PositiveSmallIntegerField(
        _("capacity"), default=10, help_text=_("Open conversations this agent can hold at once.")
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # A partner always belongs to exactly one partner organization, and only
            # partners do: nothing else can make a user external.
            models.CheckConstraint(
                condition=(
                    Q(role="partner", partner_organization__isnull=False)
                    | (~Q(role="partner") & Q(partner_organization__isnull=True))
                ),
                name="user_partner_has_organization",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_partner(self) -> bool:
        return self.role == Role.PARTNER

    @property
    def is_internal(self) -> bool:
        """Company staff of any role: everyone who is not a partner."""
        return self.is_active and self.role != Role.PARTNER

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.ADMIN, Role.SUPERVISOR)

    # The roles are the permission model; Django's admin asks through these.
    @property
    def is_staff(self) -> bool:
        return self.role in (Role.ADMIN, Role.SUPERVISOR)

    @property
    def is_superuser(self) -> bool:
        return self.role == Role.ADMIN

    def has_perm(self, perm: str, obj: object = None) -> bool:
        if not self.is_active:
            return False
        if self.role == Role.ADMIN:
            return True
        if self.role == Role.SUPERVISOR:
            app_label = perm.split(".", 1)[0]
            return app_label in SUPERVISED_APPS and perm not in ADMIN_ONLY_PERMISSIONS
        return False

    def has_perms(self, perm_list: list[str], obj: object = None) -> bool:
        return all(self.has_perm(perm, obj) for perm in perm_list)

    def has_module_perms(self, app_label: str) -> bool:
        if not self.is_active:
            return False
        return self.role == Role.ADMIN or (
            self.role == Role.SUPERVISOR and app_label in SUPERVISED_APPS
        )
